// The process's one counter store, from the config: MemoryStore without REDIS_URL, else a
// RedisStore on ONE fail-fast client that the limiter, the token quotas and the sign-in backoff
// all share (one connection, one outage log, one reconnect loop). Waits briefly for Redis at
// start; if it is not there, the server still starts and each caller applies its fail mode until
// Redis answers (reconnection is automatic).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createOutageLog } from '../shared/outage-log.js';
import { MemoryStore } from './memory-store.js';
import type { CounterStore } from './store.js';

export interface CounterStoreRuntime {
  store: CounterStore;
  /**
   * With REDIS_URL, the one fail-fast client itself, for the instance's other short commands
   * (realtime publishes through it); undefined without Redis. Its owner is this runtime.
   */
  redis: Redis | undefined;
  /** Closes the Redis client, if any. */
  close(): Promise<void>;
}

export async function openCounterStore({ redisUrl, logger }: { redisUrl: string | undefined; logger: Logger }): Promise<CounterStoreRuntime> {
  if (!redisUrl) return { store: new MemoryStore(), redis: undefined, close: () => Promise.resolve() };
  // ioredis loads only when Redis is configured: the embedded default never needs it.
  const { createLimiterRedisClient, RedisStore } = await import('./redis-store.js');
  const client = createLimiterRedisClient(redisUrl);
  watchConnection(client, logger);
  await waitReady(client, 2_000).catch(() => logger.warn('rate-limit Redis not reachable at start; classes apply their fail mode until it is'));
  return {
    store: new RedisStore({ client }),
    redis: client,
    async close() {
      // quit() waits for replies in flight; disconnect() when the server is already gone.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/**
 * An 'error' listener is required (ioredis prints unhandled ones), and reconnect attempts fail
 * every 200 ms during an outage: log the first failure and the recovery, not each attempt.
 */
function watchConnection(client: Redis, logger: Logger): void {
  const outage = createOutageLog(logger, 'rate-limit Redis');
  client.on('error', (error: Error) => outage.down(error));
  client.on('ready', () => outage.up());
}

// A real timer, not the clock: it waits for a real server, whatever time the app is told it is.
function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error('timeout'));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ServiceUnavailableError } from '../../errors/index.js';
import { createOutageLog } from '../../shared/outage-log.js';
import type { RealtimeBus } from '../changes/types.js';
import { createTopics } from './topics.js';

// Several instances with REDIS_URL: Redis pub/sub, one channel per topic. Two connections, opened
// on first use (a CLI command never opens them): a subscribed connection can do nothing else.
// Delivery is at most once: during an outage messages are dropped (logged once), never queued
// without bound; subscriptions come back by themselves when Redis does (ioredis resubscribes).

export interface RedisBusOptions {
  url: string;
  logger: Logger;
  /** Channel prefix; tests give each run its own. */
  prefix?: string;
}

/** ms a publish waits for Redis before it counts as failed. */
const COMMAND_TIMEOUT_MS = 2_000;

function unavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('redis', { message: 'Realtime messaging (Redis) is unavailable.', cause });
}

export function createRedisBus({ url, logger, prefix = 'gatehouse:realtime:' }: RedisBusOptions): RealtimeBus {
  const topics = createTopics(logger);
  const outage = createOutageLog(logger, 'realtime Redis');
  let pub: Promise<Redis> | null = null;
  let sub: Promise<Redis> | null = null;
  let closed = false;

  async function open(role: 'pub' | 'sub'): Promise<Redis> {
    // Loaded on first use, like the limiter's client: a start without REDIS_URL never loads ioredis.
    const { Redis: RedisClient } = await import('ioredis');
    const client = new RedisClient(url, {
      lazyConnect: true,
      // Publishing fails fast while Redis is away; subscribing waits for it to come back.
      enableOfflineQueue: role === 'sub',
      commandTimeout: role === 'pub' ? COMMAND_TIMEOUT_MS : undefined,
      maxRetriesPerRequest: role === 'pub' ? 0 : null,
      connectionName: `gatehouse-realtime-${role}`,
    });
    client.on('error', (error: Error) => outage.down(error));
    client.on('ready', () => outage.up());
    if (role === 'sub') {
      client.on('messageBuffer', (channel: Buffer, data: Buffer) => {
        const topic = channel.toString('utf8').slice(prefix.length);
        let message: unknown;
        try {
          message = JSON.parse(data.toString('utf8'));
        } catch {
          logger.warn({ topic }, 'realtime bus: a message that is not JSON was dropped');
          return;
        }
        topics.dispatch(topic, message);
      });
    }
    return client.connect().then(() => client, (error: unknown) => {
      client.disconnect();
      throw unavailable(error);
    });
  }

  function connection(role: 'pub' | 'sub'): Promise<Redis> {
    if (closed) return Promise.reject(new Error('realtime bus closed'));
    if (role === 'pub') {
      // A failed first connect is not kept: the next publish tries again.
      pub ??= open('pub').catch((error: unknown) => { pub = null; throw error; });
      return pub;
    }
    sub ??= open('sub').catch((error: unknown) => { sub = null; throw error; });
    return sub;
  }

  return {
    async publish(topic, message) {
      const client = await connection('pub');
      await client.publish(prefix + topic, JSON.stringify(message)).catch((error: unknown) => { throw unavailable(error); });
    },
    async subscribe(topic, onMessage) {
      const { remove } = topics.add(topic, onMessage);
      try {
        // SUBSCRIBE is idempotent: each caller resolves once Redis has confirmed it.
        const client = await connection('sub');
        await client.subscribe(prefix + topic);
      } catch (error) {
        remove();
        throw error instanceof ServiceUnavailableError ? error : unavailable(error);
      }
      return async () => {
        if (!remove() || !sub) return;
        const client = await sub.catch(() => null);
        // A subscribe may have come in while we waited: commands go out in order, so checking now is enough.
        if (client && !topics.has(topic)) await client.unsubscribe(prefix + topic).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      topics.clear();
      for (const pending of [pub, sub]) {
        const client = await pending?.catch(() => null);
        if (!client) continue;
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
      pub = null;
      sub = null;
    },
  };
}

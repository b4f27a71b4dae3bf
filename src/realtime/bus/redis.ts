import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ServiceUnavailableError } from '../../errors/index.js';
import { createOutageLog } from '../../shared/outage-log.js';
import type { RealtimeBus } from '../changes/types.js';
import { createTopics } from './topics.js';

// Several instances with REDIS_URL: Redis pub/sub, one channel per topic. Publishing goes through
// the instance's one shared fail-fast client (the counter store's, src/limits/open-store.ts); only
// the subscriber has a connection of its own, opened on first use (a CLI command never opens it),
// because a subscribed connection can do nothing else. It is the shared client's duplicate (same
// server, TLS and credentials), with the retry behaviour a subscription needs.
// Delivery is at most once: during an outage messages are dropped (logged once), never queued
// without bound; subscriptions come back by themselves when Redis does (ioredis resubscribes).

/** What the bus needs of the shared client: a fail-fast PUBLISH (no offline queue, a command timeout), and its connection settings for the subscriber. */
export type RedisPublisher = Pick<Redis, 'publish' | 'duplicate'>;

export interface RedisBusOptions {
  /** The instance's shared client; the bus never closes it. */
  publisher: RedisPublisher;
  logger: Logger;
  /** Channel prefix; tests give each run its own. */
  prefix?: string;
}

function unavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('redis', { message: 'Realtime messaging (Redis) is unavailable.', cause });
}

export function createRedisBus({ publisher, logger, prefix = 'gatehouse:realtime:' }: RedisBusOptions): RealtimeBus {
  const topics = createTopics(logger);
  const outage = createOutageLog(logger, 'realtime Redis');
  let sub: Promise<Redis> | null = null;
  let closed = false;

  async function openSubscriber(): Promise<Redis> {
    // Unlike publishing, subscribing waits for Redis to come back (offline queue, endless retries,
    // no command timeout); the reconnect pace (retryStrategy) stays the shared client's.
    const client = publisher.duplicate({
      lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, connectionName: 'gatehouse-realtime-sub',
    });
    client.on('error', (error: Error) => outage.down(error));
    client.on('ready', () => outage.up());
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
    return client.connect().then(() => client, (error: unknown) => {
      client.disconnect();
      throw unavailable(error);
    });
  }

  function subscriber(): Promise<Redis> {
    if (closed) return Promise.reject(new Error('realtime bus closed'));
    // A failed first connect is not kept: the next subscribe tries again.
    sub ??= openSubscriber().catch((error: unknown) => { sub = null; throw error; });
    return sub;
  }

  return {
    async publish(topic, message) {
      if (closed) throw new Error('realtime bus closed');
      // The shared client fails fast while Redis is away (no offline queue): a dropped message, a 503.
      await publisher.publish(prefix + topic, JSON.stringify(message)).catch((error: unknown) => { throw unavailable(error); });
    },
    async subscribe(topic, onMessage) {
      const { remove } = topics.add(topic, onMessage);
      try {
        // SUBSCRIBE is idempotent: each caller resolves once Redis has confirmed it.
        const client = await subscriber();
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
      // The publisher is the instance's, closed with the counter store.
      const client = await sub?.catch(() => null);
      if (client) {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
      sub = null;
    },
  };
}

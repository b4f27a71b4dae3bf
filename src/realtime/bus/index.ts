import type { Logger } from 'pino';
import type { RealtimeBus } from '../changes/types.js';
import { createMemoryBus } from './memory.js';
import { createPostgresBus } from './postgres.js';
import { createRedisBus, type RedisPublisher } from './redis.js';

export { createMemoryBus, createPostgresBus, createRedisBus, type RedisPublisher };
export { splitMessage, joinChunks, MAX_PAYLOAD } from './chunks.js';

export interface OpenBusOptions {
  redisUrl: string | undefined;
  /** With REDIS_URL: the instance's shared fail-fast client, which publishes (the subscriber has its own connection). */
  redisPublisher: RedisPublisher | undefined;
  /** Set when the database is PostgreSQL. */
  postgresUrl: string | undefined;
  logger: Logger;
}

/** Redis pub/sub with REDIS_URL, else LISTEN/NOTIFY on PostgreSQL, else this process only. */
export function openRealtimeBus({ redisUrl, redisPublisher, postgresUrl, logger }: OpenBusOptions): { bus: RealtimeBus; kind: 'redis' | 'postgres' | 'memory' } {
  if (redisUrl) {
    if (!redisPublisher) throw new TypeError('openRealtimeBus: REDIS_URL needs the shared Redis client to publish with');
    return { bus: createRedisBus({ url: redisUrl, publisher: redisPublisher, logger }), kind: 'redis' };
  }
  if (postgresUrl) return { bus: createPostgresBus({ databaseUrl: postgresUrl, logger }), kind: 'postgres' };
  return { bus: createMemoryBus({ logger }), kind: 'memory' };
}

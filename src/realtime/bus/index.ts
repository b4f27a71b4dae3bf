import type { Logger } from 'pino';
import type { RealtimeBus } from '../changes/types.js';
import { createMemoryBus } from './memory.js';
import { createPostgresBus } from './postgres.js';
import { createRedisBus, type RedisPublisher } from './redis.js';

export { createMemoryBus, createPostgresBus, createRedisBus, type RedisPublisher };
export { splitMessage, joinChunks, MAX_PAYLOAD } from './chunks.js';

export interface OpenBusOptions {
  /** With REDIS_URL: the instance's shared fail-fast client, which publishes (the subscriber is its duplicate). */
  redisPublisher: RedisPublisher | undefined;
  /** Set when the database is PostgreSQL. */
  postgresUrl: string | undefined;
  logger: Logger;
}

/** Redis pub/sub with REDIS_URL, else LISTEN/NOTIFY on PostgreSQL, else this process only. */
export function openRealtimeBus({ redisPublisher, postgresUrl, logger }: OpenBusOptions): { bus: RealtimeBus; kind: 'redis' | 'postgres' | 'memory' } {
  if (redisPublisher) return { bus: createRedisBus({ publisher: redisPublisher, logger }), kind: 'redis' };
  if (postgresUrl) return { bus: createPostgresBus({ databaseUrl: postgresUrl, logger }), kind: 'postgres' };
  return { bus: createMemoryBus({ logger }), kind: 'memory' };
}

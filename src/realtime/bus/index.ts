import type { Logger } from 'pino';
import type { RealtimeBus } from '../changes/types.js';
import { createMemoryBus } from './memory.js';
import { createPostgresBus } from './postgres.js';
import { createRedisBus } from './redis.js';

export { createMemoryBus, createPostgresBus, createRedisBus };
export { splitMessage, joinChunks, MAX_PAYLOAD } from './chunks.js';

export interface OpenBusOptions {
  redisUrl: string | undefined;
  /** Set when the database is PostgreSQL. */
  postgresUrl: string | undefined;
  logger: Logger;
}

/** Redis pub/sub with REDIS_URL, else LISTEN/NOTIFY on PostgreSQL, else this process only. */
export function openRealtimeBus({ redisUrl, postgresUrl, logger }: OpenBusOptions): { bus: RealtimeBus; kind: 'redis' | 'postgres' | 'memory' } {
  if (redisUrl) return { bus: createRedisBus({ url: redisUrl, logger }), kind: 'redis' };
  if (postgresUrl) return { bus: createPostgresBus({ databaseUrl: postgresUrl, logger }), kind: 'postgres' };
  return { bus: createMemoryBus({ logger }), kind: 'memory' };
}

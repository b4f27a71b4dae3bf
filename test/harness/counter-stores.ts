// The limiter's counter stores, for suites that run on every one: the memory store always, Redis
// whenever the run has one (always in CI).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { createLimiterRedisClient, RedisStore } from '../../src/limits/redis-store.js';
import type { CounterStore } from '../../src/limits/store.js';

export interface CounterStoreCase {
  name: 'memory' | 'redis';
  available: boolean;
  open(): Promise<{ store: CounterStore; close(): Promise<void> }>;
}

/** `redisUrl`: the run's Redis (vitest's `inject('redisUrl')`), null when it has none. */
export function counterStoreCases(redisUrl: string | null): CounterStoreCase[] {
  return [
    { name: 'memory', available: true, open: () => Promise.resolve({ store: new MemoryStore(), close: () => Promise.resolve() }) },
    {
      name: 'redis',
      available: redisUrl !== null,
      async open() {
        const client: Redis = createLimiterRedisClient(redisUrl ?? '', { lazyConnect: true });
        await client.connect();
        // A prefix of its own, so parallel test files sharing this Redis never meet.
        const prefix = `test:rl:${randomUUID()}:`;
        return {
          store: new RedisStore({ client, prefix }),
          async close() {
            const keys = await client.keys(`${prefix}*`);
            if (keys.length > 0) await client.del(...keys);
            await client.quit();
          },
        };
      },
    },
  ];
}

// Quota totals on both counter stores: atomic totals that hold across instances (Redis) and
// expire after their period.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startRedis } from '../../test/harness/redis.js';
import { ServiceUnavailableError } from '../errors/index.js';
import { MemoryStore } from './memory-store.js';
import { createLimiterRedisClient, RedisStore } from './redis-store.js';
import type { QuotaCounter } from './store.js';

const redisUrl = inject('redisUrl');
const DAY = 86_400_000;
const clients: Redis[] = [];

async function client(url: string): Promise<Redis> {
  const c = createLimiterRedisClient(url, { lazyConnect: true });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
});

/** The quota side of a counter store, on the given clock. */
function totals(store: QuotaCounter, now: () => number) {
  return {
    addUsage: (key: string, amount: number, periodEndMs: number) => store.add(key, amount, periodEndMs, now()),
    get: (key: string) => store.total(key, now()),
  };
}

const CASES = [
  { name: 'memory', available: true, make: async (now: () => number) => [totals(new MemoryStore(), now)] },
  {
    name: 'redis',
    available: redisUrl !== null,
    make: async (now: () => number) => {
      const prefix = `test:quota:${randomUUID()}:`;
      // Four clients: four "instances" adding to one total.
      return Promise.all([0, 1, 2, 3].map(async () => totals(new RedisStore({ client: await client(redisUrl ?? ''), prefix }), now)));
    },
  },
];

describe.each(CASES)('quota counter on the $name store', ({ available, make }) => {
  const test = available ? it : it.skip;

  test('adds atomically and returns the running total; 0 reads without changing', async () => {
    const counters = await make(Date.now);
    const end = Date.now() + DAY;
    expect(await counters[0]!.get('p:dev:user:u1:tokens:2030-01')).toBe(0);
    expect(await counters[0]!.addUsage('p:dev:user:u1:tokens:2030-01', 120, end)).toBe(120);
    expect(await counters[0]!.addUsage('p:dev:user:u1:tokens:2030-01', 0, end)).toBe(120);
    // 200 concurrent adds of 5 through every counter: nothing lost.
    const totals = await Promise.all(Array.from({ length: 200 }, (_, i) => counters[i % counters.length]!.addUsage('p:dev:user:u1:tokens:2030-01', 5, end)));
    expect(Math.max(...totals)).toBe(1120);
    expect(new Set(totals).size).toBe(200); // every add saw a distinct total
    expect(await counters[counters.length - 1]!.get('p:dev:user:u1:tokens:2030-01')).toBe(1120);
    expect(await counters[0]!.get('p:dev:user:u2:tokens:2030-01')).toBe(0);
  });

  test('refuses negative, fractional and unsafe amounts and empty keys', async () => {
    const [counter] = await make(Date.now);
    const end = Date.now() + DAY;
    for (const amount of [-1, 1.5, Number.NaN, 2 ** 60]) await expect(counter!.addUsage('k', amount, end)).rejects.toThrow(TypeError);
    await expect(counter!.addUsage('', 1, end)).rejects.toThrow(TypeError);
    expect(await counter!.get('k')).toBe(0);
  });
});

describe('quota totals expire after their period', () => {
  it('memory: gone an hour after the period ends', async () => {
    let now = Date.UTC(2030, 0, 31, 12);
    const counter = totals(new MemoryStore(), () => now);
    const periodEnd = Date.UTC(2030, 1, 1);
    await counter.addUsage('m', 10, periodEnd);
    now = periodEnd + 30 * 60_000;
    expect(await counter.get('m')).toBe(10);
    now = periodEnd + 61 * 60_000;
    expect(await counter.get('m')).toBe(0);
    expect(await counter.addUsage('m', 1, Date.UTC(2030, 2, 1))).toBe(1);
  });

  it.skipIf(redisUrl === null)('redis: the key expires at the period end plus the grace, and only ever later', async () => {
    const c = await client(redisUrl ?? '');
    const prefix = `test:quota:${randomUUID()}:`;
    const now = Date.now();
    const counter = totals(new RedisStore({ client: c, prefix }), () => now);
    await counter.addUsage('x', 1, now + DAY);
    const ttl1 = await c.pttl(`${prefix}quota:x`);
    expect(ttl1).toBeGreaterThan(DAY);
    expect(ttl1).toBeLessThanOrEqual(DAY + 3_600_000 + 1000);
    await counter.addUsage('x', 1, now + 1000); // an earlier period end never shortens it
    expect(await c.pttl(`${prefix}quota:x`)).toBeGreaterThan(DAY);
    await c.del(`${prefix}quota:x`);
  });

  it('redis down: the one outage error (ServiceUnavailableError), so the caller applies its fail mode', async () => {
    const server = await startRedis();
    try {
      const counter = totals(new RedisStore({ client: await client(server.url), prefix: 'q:' }), Date.now);
      expect(await counter.addUsage('x', 3, Date.now() + DAY)).toBe(3);
      await server.stop();
      await expect(counter.addUsage('x', 1, Date.now() + DAY)).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(counter.get('x')).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await server.stop();
    }
  });
});

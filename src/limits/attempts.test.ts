// Failed-attempt counters (sign-in backoff) on both counter stores: atomic across instances,
// expiring, resettable, bounded in memory, and an outage is the one outage error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../../test/harness/engines.js';
import { MemoryStore } from './memory-store.js';
import { createLimiterRedisClient, RedisStore } from './redis-store.js';

const url = redisUrl();

describe('memory attempt counters', () => {
  it('the memory store forgets the least recently failed key when full', async () => {
    const store = new MemoryStore({ maxAttemptKeys: 2 });
    await store.recordFailure('a', 0, 1000);
    await store.recordFailure('b', 0, 1000);
    await store.recordFailure('c', 0, 1000);
    expect(await store.failures('a', 1)).toBeNull();
    expect(await store.failures('c', 1)).toEqual({ failures: 1, lastFailureMs: 0 });
    expect(await store.failures('c', 1000)).toBeNull(); // expired
  });
});

describe.runIf(url)('Redis attempt counters', () => {
  const client = createLimiterRedisClient(url ?? 'redis://127.0.0.1:1');
  const prefix = `gh:test:${Math.random().toString(36).slice(2)}:`;
  beforeAll(async () => { if (client.status !== 'ready') await new Promise((r) => client.once('ready', r)); });
  afterAll(async () => { await client.quit(); });

  it('counts failures atomically across callers, expires, and resets', async () => {
    const a = new RedisStore({ client, prefix });
    const b = new RedisStore({ client, prefix }); // another instance
    await Promise.all([a.recordFailure('acct', 1000, 60_000), b.recordFailure('acct', 1001, 60_000), a.recordFailure('acct', 1002, 60_000)]);
    expect((await b.failures('acct', 0))?.failures).toBe(3);
    await a.reset('acct');
    expect(await b.failures('acct', 0)).toBeNull();
    await a.recordFailure('short', 5, 50);
    // Redis expires keys on its own clock: the one wait here is for the real server.
    await new Promise((r) => setTimeout(r, 120));
    expect(await a.failures('short', 0)).toBeNull();
  });

  it('an unreachable Redis fails closed with 503', async () => {
    const dead = createLimiterRedisClient('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => {});
    const store = new RedisStore({ client: dead, prefix });
    await expect(store.failures('x', 0)).rejects.toMatchObject({ code: 'service_unavailable', service: 'redis' });
    dead.disconnect();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiterRedisClient } from '../../limits/index.js';
import { redisUrl } from '../../../test/harness/engines.js';
import { createRedisAttemptStore } from './redis-attempt-store.js';

const url = redisUrl();

describe.runIf(url)('Redis attempt store', () => {
  const client = createLimiterRedisClient(url ?? 'redis://127.0.0.1:1');
  const prefix = `gh:test:${Math.random().toString(36).slice(2)}:`;
  beforeAll(async () => { if (client.status !== 'ready') await new Promise((r) => client.once('ready', r)); });
  afterAll(async () => { await client.quit(); });

  it('counts failures atomically across callers, expires, and resets', async () => {
    const a = createRedisAttemptStore(client, prefix);
    const b = createRedisAttemptStore(client, prefix); // another instance
    await Promise.all([a.recordFailure('acct', 1000, 60_000), b.recordFailure('acct', 1001, 60_000), a.recordFailure('acct', 1002, 60_000)]);
    expect((await b.get('acct', 0))?.failures).toBe(3);
    await a.reset('acct');
    expect(await b.get('acct', 0)).toBeNull();
    await a.recordFailure('short', 5, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await a.get('short', 0)).toBeNull();
  });

  it('an unreachable Redis fails closed with 503', async () => {
    const dead = createLimiterRedisClient('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => {});
    const store = createRedisAttemptStore(dead, prefix);
    await expect(store.get('x', 0)).rejects.toMatchObject({ code: 'service_unavailable' });
    dead.disconnect();
  });
});

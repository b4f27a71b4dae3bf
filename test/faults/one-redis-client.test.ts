// The limiter, the token quotas and the sign-in backoff keep their counters in one counter store:
// with REDIS_URL, one Redis connection per instance, and an outage is the one backing-service
// outage (503 in the surface's dialect, counted by service) whichever of them meets it first.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { createTestUser, type TestUser } from '../harness/users.js';

/** Auth and address checks fail open here, so that a sign-in reaches the backoff's counters during the outage. */
function authOpenEnv(): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'gh-one-redis-')), 'config.json');
  const windows = [{ limit: 1_000_000, windowMs: 60_000 }];
  writeFileSync(file, JSON.stringify({
    rateLimits: {
      address: { failMode: 'open', windows },
      classes: { auth: { failMode: 'open', tiers: { guest: windows, user: windows, admin: windows } } },
    },
  }));
  return { GATEHOUSE_CONFIG: file };
}

describe.skipIf(inject('redisUrl') === null)('one Redis client for every counter (sqlite)', () => {
  let redis: RedisServer;
  let gh: TestApp;
  let user: TestUser;
  let connectionsBefore: number;

  /** The connections other than this probe's, by name (`name=` of CLIENT LIST; empty when unnamed). */
  const clientNames = async (): Promise<string[]> => {
    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await admin.connect();
      const list = String(await admin.call('CLIENT', 'LIST'));
      const names = list.split('\n').filter((line) => line.includes('id=')).map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '');
      names.splice(names.indexOf(''), 1); // not counting this probe (unnamed)
      return names;
    } finally {
      admin.disconnect();
    }
  };
  // A connection in pub/sub mode can run no other command, so realtime's subscriber is its own
  // connection by necessity (named, counted apart); every counter, and realtime's publishing, shares
  // the one other connection.
  const REALTIME_SUBSCRIBER = 'gatehouse-realtime-sub';
  const connections = async () => (await clientNames()).filter((name) => name !== REALTIME_SUBSCRIBER).length;

  beforeAll(async () => {
    redis = await startRedis();
    connectionsBefore = await connections();
    gh = await startTestApp('sqlite', { env: { ...authOpenEnv(), REDIS_URL: redis.url } });
    user = await createTestUser(gh);
  });
  afterAll(async () => {
    await gh?.close();
    await redis?.stop();
  });

  it('an instance opens exactly one Redis connection for the limiter, the quotas and the sign-in backoff', async () => {
    expect(gh.deps.rateLimits.storeKind).toBe('redis');
    expect((await connections()) - connectionsBefore).toBe(1);
    expect((await clientNames()).filter((name) => name === REALTIME_SUBSCRIBER)).toHaveLength(1);
  });

  it('realtime publishes on that same connection: a message goes round, and no connection is added', async () => {
    const heard: unknown[] = [];
    const stop = await gh.deps.realtime.bus.subscribe('one-client-probe', (message) => heard.push(message));
    try {
      await gh.deps.realtime.bus.publish('one-client-probe', { n: 1 });
      await expect.poll(() => heard).toEqual([{ n: 1 }]);
      expect((await connections()) - connectionsBefore).toBe(1);
      expect(await clientNames()).not.toContain('gatehouse-realtime-pub');
    } finally {
      await stop();
    }
  });

  it('with Redis down, sign-in fails closed: 503 in GoTrue\'s shape, counted as a Redis outage, no session made', async () => {
    const sessions = async () => (await gh.deps.storage.db.selectFrom('identity_sessions').select('id').execute()).length;
    const before = await sessions();
    await redis.stop();
    try {
      const res = await gh.app.inject({
        method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey },
        remoteAddress: '203.0.113.70', payload: { email: user.email, password: user.password },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 503, error_code: 'service_unavailable' });
      expect(res.body).not.toContain(user.password);
      expect(await sessions()).toBe(before);
      const metrics = await gh.deps.metrics.registry.metrics();
      expect(metrics).toMatch(/^gatehouse_service_unavailable_total\{service="redis"\} [1-9]/m);
    } finally {
      await redis.start();
    }
  });
});

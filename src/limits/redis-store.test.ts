// Redis-only behaviour: exactness across clients, and what an outage does.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedis, type RedisServer } from '../../test/harness/redis.js';
import { benchLimiter } from './bench.js';
import { ADDRESS_CLASS, createLimiter } from './decide.js';
import { DEFAULT_LIMITS, type FailMode, type LimitsConfig, type RouteClass } from './policy.js';
import { createLimiterRedisClient, RedisStore } from './redis-store.js';
import { ServiceUnavailableError } from '../errors/index.js';
import { resolveSubject } from './subject.js';

const redisUrl = inject('redisUrl');
const T0 = Date.UTC(2030, 0, 1);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function connect(url: string): Promise<Redis> {
  const client = createLimiterRedisClient(url, { lazyConnect: true });
  // Reconnect attempts during the outage test emit 'error'; the store already reports them.
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe.skipIf(redisUrl === null)('redis store', () => {
  const url = redisUrl ?? '';
  const prefix = `test:rl:${randomUUID()}:`;
  const clients: Redis[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) clients.push(await connect(url));
  });
  afterAll(async () => {
    const [first] = clients;
    const keys = first ? await first.keys(`${prefix}*`) : [];
    if (first && keys.length > 0) await first.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('400 concurrent hits through 4 separate clients at limit 100 allow exactly 100', async () => {
    const stores = clients.map((client) => new RedisStore({ client, prefix }));
    const windows = [{ limit: 100, windowMs: 60_000 }];
    const hits = Array.from({ length: 400 }, (_, i) => stores[i % stores.length]!.hit('race', windows, T0 + 1_000));
    const decisions = await Promise.all(hits);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
    // And the 300 refusals were not counted.
    expect(await clients[0]!.get(`${prefix}rl:{race}:60000:${Math.floor((T0 + 1_000) / 60_000)}`)).toBe('100');
  });

  it('refuses a client that would queue commands while Redis is down', () => {
    const queueing = new Redis(url, { lazyConnect: true });
    expect(() => new RedisStore({ client: queueing })).toThrow(TypeError);
    const noTimeout = new Redis(url, { lazyConnect: true, enableOfflineQueue: false });
    expect(() => new RedisStore({ client: noTimeout })).toThrow(/commandTimeout/);
    queueing.disconnect();
    noTimeout.disconnect();
  });

  it('benchLimiter reports ops/s and p99 latency', async () => {
    const result = await benchLimiter(new RedisStore({ client: clients[0]!, prefix }), 200);
    expect(result.ops).toBe(200);
    expect(result.opsPerSec).toBeGreaterThan(0);
    expect(result.p99Us).toBeGreaterThanOrEqual(result.p50Us);
  });
});

// A Redis of its own: this test stops and restarts it, which the run's shared one must not see.
describe.skipIf(redisUrl === null)('redis store outage', () => {
  let server: RedisServer;
  let client: Redis;
  let store: RedisStore;
  const errors: Array<[RouteClass | typeof ADDRESS_CLASS, FailMode]> = [];

  beforeAll(async () => {
    server = await startRedis();
    client = await connect(server.url);
    store = new RedisStore({ client });
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  const config: LimitsConfig = {
    ...DEFAULT_LIMITS,
    classes: {
      ...DEFAULT_LIMITS.classes,
      auth: { ...DEFAULT_LIMITS.classes.auth, failMode: 'closed' },
      data_read: { ...DEFAULT_LIMITS.classes.data_read, failMode: 'open' },
    },
  };
  const subject = resolveSubject({ projectId: 'p_outage', environment: 'prod', userId: 'u_1', ip: '192.0.2.1' });
  const limiter = () =>
    createLimiter({ store, config: () => config, onStoreError: (routeClass, mode) => errors.push([routeClass, mode]) });

  it('a down Redis fails closed classes with unavailable and open classes with allowed; it recovers within 1 s', async () => {
    const check = (routeClass: RouteClass) => limiter().check({ routeClass, tier: 'user', subject, nowMs: T0 });
    expect((await check('auth')).allowed).toBe(true);

    await server.stop();
    expect(await check('auth')).toEqual({ allowed: false, headers: {}, unavailable: true });
    expect(await check('data_read')).toEqual({ allowed: true, headers: {} });
    expect(errors).toEqual([
      ['auth', 'closed'],
      ['data_read', 'open'],
    ]);
    await expect(store.hit('x', [{ limit: 1, windowMs: 1_000 }], T0)).rejects.toBeInstanceOf(ServiceUnavailableError);

    // Stay down long enough for the reconnect backoff to reach its cap (ioredis's default would
    // by now wait seconds between attempts); then time recovery from the restart itself.
    await sleep(1_500);
    const restartedAt = Date.now();
    await server.start();
    let recovered = false;
    while (Date.now() - restartedAt < 2_000) {
      const r = await check('auth');
      if (r.allowed && r.headers['X-RateLimit-Remaining'] !== undefined) {
        recovered = true;
        break;
      }
      await sleep(50);
    }
    const elapsedMs = Date.now() - restartedAt;
    expect(recovered).toBe(true);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('a Redis that stops answering fails after the command timeout instead of hanging', async () => {
    const admin = new Redis(server.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
      const startedAt = Date.now();
      await expect(store.hit('paused', [{ limit: 5, windowMs: 60_000 }], T0)).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      await sleep(2_600);
      admin.disconnect();
    }
  });
});

// Redis-only: exact counting across instances, and what a Redis outage does to each class.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import type { TestApp } from '../harness/app.js';
import { createTestUser } from '../harness/users.js';
import { frozenClock, PROBES, startLimitsApp, type LimitsApp } from './limits-app.js';

const redisUrl = inject('redisUrl');
const MIN = 60_000;
const ROOMY_ADDRESS = { address: { failMode: 'open', windows: [{ limit: 1_000_000, windowMs: MIN }] } };
const exactEngine = engines().includes('postgres') ? 'postgres' : 'sqlite';

describe.skipIf(redisUrl === null)(`4 instances sharing one Redis and one database (${exactEngine})`, () => {
  const clock = frozenClock();
  const instances: LimitsApp[] = [];

  beforeAll(async () => {
    // One deployment behind one address: the instances share the public URL, hence the issuer of
    // the tokens any of them mints (each would otherwise name its own listen address).
    const env = { GATEHOUSE_PUBLIC_URL: 'http://gatehouse.test' };
    const first = await startLimitsApp(exactEngine, { clock, redisUrl, rateLimits: ROOMY_ADDRESS, listen: true, env });
    instances.push(first);
    for (let i = 1; i < 4; i++) {
      instances.push(await startLimitsApp(exactEngine, { clock, redisUrl, rateLimits: ROOMY_ADDRESS, listen: true, database: first.database, env }));
    }
  }, 120_000);
  afterAll(async () => {
    // The first instance owns the database: close it last.
    for (const gh of instances.slice(1)) await gh.close();
    await instances[0]?.close();
  });

  it('400 concurrent requests from one user against 100 a minute: exactly 100 succeed, on every run', async () => {
    const [first] = instances;
    const admin = { apikey: first!.secretKey, 'content-type': 'application/json' };
    for (let run = 0; run < 3; run++) {
      // A fresh user per run, limited to 100 a minute by a per-user override.
      const user = await createTestUser(first as unknown as TestApp);
      const put = await fetch(`${first!.url}/admin/v1/limits/overrides/user:${user.id}`, { method: 'PUT', headers: admin, body: JSON.stringify({ default: [{ limit: 100, windowMs: MIN }] }) });
      expect(put.status).toBe(200);
      // The other instances may hold the settings for up to a second (of the shared clock).
      clock.ms += 1_000;

      const hitsBefore = instances.reduce((n, gh) => n + gh.hits.default, 0);
      const headers = { apikey: first!.publishableKey, authorization: `Bearer ${user.accessToken}` };
      const statuses = await Promise.all(
        Array.from({ length: 400 }, (_, i) => fetch(`${instances[i % 4]!.url}${PROBES.default.url}`, { headers }).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        })),
      );
      const byStatus = JSON.stringify(statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {}));
      expect(statuses.filter((s) => s === 200), byStatus).toHaveLength(100);
      expect(statuses.filter((s) => s === 429), byStatus).toHaveLength(300);
      expect(instances.reduce((n, gh) => n + gh.hits.default, 0) - hitsBefore).toBe(100);
    }
  }, 60_000);

  it('400 concurrent requests from one secret key against 100 a minute: exactly 100 succeed', async () => {
    const [first] = instances;
    const admin = { apikey: first!.secretKey, 'content-type': 'application/json' };
    const created = await fetch(`${first!.url}/admin/v1/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ kind: 'secret', name: 'exact' }) });
    expect(created.status).toBe(201);
    const { key, id } = (await created.json()) as { key: string; id: string };
    const put = await fetch(`${first!.url}/admin/v1/limits/overrides/key:${id}`, { method: 'PUT', headers: admin, body: JSON.stringify({ default: [{ limit: 100, windowMs: MIN }] }) });
    expect(put.status).toBe(200);
    clock.ms += 1_000;
    const statuses = await Promise.all(
      Array.from({ length: 400 }, (_, i) => fetch(`${instances[i % 4]!.url}${PROBES.default.url}`, { headers: { apikey: key } }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      })),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300);
  }, 60_000);
});

describe.skipIf(redisUrl === null)('a Redis outage', () => {
  let redis: RedisServer;
  let gh: LimitsApp;
  beforeAll(async () => {
    redis = await startRedis();
    gh = await startLimitsApp('sqlite', { clock: frozenClock(), redisUrl: redis.url, rateLimits: ROOMY_ADDRESS });
  });
  afterAll(async () => {
    await gh?.close();
    await redis?.stop();
  });

  const send = (probe: keyof typeof PROBES) =>
    gh.app.inject({ method: PROBES[probe].method, url: PROBES[probe].url, headers: { apikey: gh.secretKey }, ...(PROBES[probe].method === 'POST' ? { payload: {} } : {}) });
  const metric = async (line: string): Promise<number> => {
    const text = await gh.deps.metrics.registry.metrics();
    const found = text.split('\n').find((l) => l.startsWith(line + ' '));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };

  it('fails closed (503) for llm and auth, open (200) for data_read, counts it, and is back within a second of Redis returning', async () => {
    expect((await send('llmOpenai')).statusCode).toBe(200);
    expect((await send('dataRead')).statusCode).toBe(200);
    const llmHits = gh.hits.llmOpenai;

    await redis.stop();
    const llm = await send('llmOpenai');
    expect(llm.statusCode).toBe(503);
    expect(llm.json()).toMatchObject({ error: { code: 'service_unavailable', type: 'server_error' } });
    expect(llm.headers['retry-after']).toBe('1');
    expect(gh.hits.llmOpenai).toBe(llmHits); // the upstream call never happened
    const auth = await send('auth');
    expect(auth.statusCode).toBe(503);
    expect(auth.json()).toMatchObject({ code: 503, error_code: 'service_unavailable' });
    const read = await send('dataRead');
    expect(read.statusCode).toBe(200);
    expect(read.headers).not.toHaveProperty('x-ratelimit-limit');
    expect(await metric('gatehouse_rate_limit_store_errors_total{route_class="llm",mode="closed"}')).toBeGreaterThanOrEqual(1);
    expect(await metric('gatehouse_rate_limit_store_errors_total{route_class="data_read",mode="open"}')).toBeGreaterThanOrEqual(1);
    expect(await metric('gatehouse_rate_limit_store_errors_total{route_class="address",mode="open"}')).toBeGreaterThanOrEqual(1);
    // Logged once, not once per reconnect attempt (every 200 ms).
    await new Promise((r) => setTimeout(r, 700));
    expect(gh.logs.filter((l) => l.includes('rate-limit Redis unavailable'))).toHaveLength(1);

    await redis.start();
    const back = performance.now();
    let status = 0;
    while (performance.now() - back < 2_000) {
      status = (await send('llmOpenai')).statusCode;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
    expect(performance.now() - back).toBeLessThan(1_000);
    const normal = await send('dataRead');
    expect(normal.statusCode).toBe(200);
    expect(normal.headers).toHaveProperty('x-ratelimit-limit');
  }, 30_000);
});

// Signed-in users: the user tier, one counter per user whatever key or token carries it, and
// per-user overrides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../harness/app.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { frozenClock, PROBES, startLimitsApp, storeCombos, type LimitsApp } from './limits-app.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const COMBOS = storeCombos();
const ROOMY_ADDRESS = { address: { failMode: 'open', windows: [{ limit: 1_000_000, windowMs: MIN }] } };
const w = (limit: number) => ({ limit, windowMs: MIN });

describe.each(COMBOS)('rate limits of signed-in users ($engine, $store store)', ({ engine, redis }) => {
  let gh: LimitsApp;
  const clock = frozenClock();
  beforeAll(async () => {
    gh = await startLimitsApp(engine, { clock, redisUrl: redis, rateLimits: ROOMY_ADDRESS });
  });
  afterAll(() => gh?.close());

  const asTestApp = () => gh as unknown as TestApp;
  const get = (headers: Record<string, string>): Promise<LightMyRequestResponse> => gh.app.inject({ url: PROBES.default.url, headers });
  const policy = async (patch: object) => {
    const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: gh.secretKey }, payload: patch });
    expect(res.statusCode, res.body).toBe(200);
  };
  const asUser = (user: TestUser, apikey = gh.publishableKey, token = user.accessToken) => ({ apikey, authorization: `Bearer ${token}` });

  it('a user gets the user tier, on a counter of their own (not the key\'s, not another user\'s)', async () => {
    clock.ms += HOUR;
    await policy({ default: { tiers: { guest: [w(2)], user: [w(3)] } } });
    const [alice, bob] = [await createTestUser(asTestApp()), await createTestUser(asTestApp())];
    for (let i = 0; i < 3; i++) {
      const res = await get(asUser(alice));
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    const refused = await get(asUser(alice));
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'rate_limit_exceeded', retry_after: expect.any(Number) });
    expect((await get(asUser(bob))).statusCode).toBe(200);
    // A guest on the same key and address has the guest budget, untouched by alice.
    expect((await get({ apikey: gh.publishableKey })).headers['x-ratelimit-limit']).toBe('2');
  });

  it('switching between the publishable key, the secret key and a fresh token does not reset a user\'s counter', async () => {
    clock.ms += HOUR;
    await policy({ default: { tiers: { user: [w(3)], admin: [w(3)] } } });
    const alice = await createTestUser(asTestApp());
    const before = gh.hits.default;
    expect((await get(asUser(alice))).statusCode).toBe(200);
    expect((await get(asUser(alice, gh.secretKey))).statusCode).toBe(200);
    const signIn = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, payload: { email: alice.email, password: alice.password } });
    expect(signIn.statusCode).toBe(200);
    const fresh = (signIn.json() as { access_token: string }).access_token;
    expect(fresh).not.toBe(alice.accessToken);
    expect((await get(asUser(alice, gh.publishableKey, fresh))).statusCode).toBe(200);
    for (const headers of [asUser(alice), asUser(alice, gh.secretKey), asUser(alice, gh.publishableKey, fresh), asUser(alice, ` ${gh.publishableKey} `)]) {
      expect((await get(headers)).statusCode).toBe(429);
    }
    expect(gh.hits.default - before).toBe(3);
  });

  it('a per-user override raises one user\'s limit and no one else\'s', async () => {
    clock.ms += HOUR;
    await policy({ default: { tiers: { user: [w(2)] } } });
    const [alice, bob] = [await createTestUser(asTestApp()), await createTestUser(asTestApp())];
    const put = await gh.app.inject({ method: 'PUT', url: `/admin/v1/limits/overrides/user:${alice.id}`, headers: { apikey: gh.secretKey }, payload: { default: [w(5)] } });
    expect(put.statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(asUser(alice))).statusCode).toBe(200);
    expect((await get(asUser(alice))).statusCode).toBe(429);
    for (let i = 0; i < 2; i++) expect((await get(asUser(bob))).statusCode).toBe(200);
    expect((await get(asUser(bob))).statusCode).toBe(429);
  });
});

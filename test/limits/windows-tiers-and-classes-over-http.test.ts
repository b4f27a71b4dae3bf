// Rate limits through the real HTTP pipeline, on every storage engine and on the memory store
// and a real Redis: windows, tiers, classes, overrides, exact headers, Retry-After, each surface's
// 429 dialect, and that the handler never runs once a subject is over its limit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { frozenClock, PROBES, startLimitsApp, storeCombos, type LimitsApp, type ProbeName, type SettableClock } from './limits-app.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const COMBOS = storeCombos();
/** So the dozens of requests of these tests never meet the per-IP pre-check (tested on its own). */
const ROOMY_ADDRESS = { address: { failMode: 'open', windows: [{ limit: 1_000_000, windowMs: MIN }] } };

type Keys = { publishableKey: string; secretKey: string; projectId: string };

function send(gh: LimitsApp, probe: ProbeName, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  const { method, url } = PROBES[probe];
  return gh.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
}

async function setPolicy(gh: LimitsApp, secretKey: string, patch: object): Promise<void> {
  const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: secretKey }, payload: patch });
  expect(res.statusCode, res.body).toBe(200);
}

async function keyIds(gh: LimitsApp, secretKey: string): Promise<{ pk: string; sk: string }> {
  const res = await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: secretKey } });
  const keys = (res.json() as { keys: Array<{ id: string; kind: string }> }).keys;
  return { pk: keys.find((k) => k.kind === 'publishable')!.id, sk: keys.find((k) => k.kind === 'secret')!.id };
}

const w = (limit: number, windowMs = MIN) => ({ limit, windowMs });

describe.each(COMBOS)('rate limits over HTTP ($engine, $store store)', ({ engine, redis }) => {
  let gh: LimitsApp;
  let clock: SettableClock;
  let keys: Keys;
  let T: number;

  beforeAll(async () => {
    clock = frozenClock();
    // Both header families, so the exact values of each are checked (the default sends X-RateLimit-* only).
    gh = await startLimitsApp(engine, { clock, redisUrl: redis, rateLimits: ROOMY_ADDRESS, env: { GATEHOUSE_RATE_LIMIT_HEADERS: 'both' } });
  });
  afterAll(() => gh?.close());
  beforeEach(async () => {
    // A fresh project (own counters, own settings) and a fresh hour for every test.
    const p = await gh.createProject(`t${Math.random().toString(36).slice(2, 10)}`);
    keys = { publishableKey: p.publishableKey, secretKey: p.secretKey, projectId: p.project.id };
    clock.ms += 10 * HOUR;
    T = clock.ms;
  });

  it('every window of a policy holds: 3 a minute AND 5 an hour, with exact headers and Retry-After', async () => {
    await setPolicy(gh, keys.secretKey, { default: { tiers: { admin: [w(3), w(5, HOUR)] } } });
    clock.ms = T + 10_000;
    const sk = { apikey: keys.secretKey };
    const first = await send(gh, 'default', sk);
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': String((T + MIN) / 1000),
      'ratelimit-policy': '"default-60s";q=3;w=60, "default-3600s";q=5;w=3600',
      ratelimit: '"default-60s";r=2;t=50',
    });
    expect(first.headers).not.toHaveProperty('retry-after');
    expect((await send(gh, 'default', sk)).statusCode).toBe(200);
    expect((await send(gh, 'default', sk)).headers['x-ratelimit-remaining']).toBe('0');
    const before = gh.hits.default;

    const refused = await send(gh, 'default', sk);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('50');
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', ratelimit: '"default-60s";r=0;t=50' });
    expect(refused.json()).toEqual({
      error: 'rate_limit_exceeded', message: 'Too many requests: retry after 50 seconds.', retry_after: 50, request_id: refused.headers['x-request-id'],
    });
    expect(gh.hits.default).toBe(before); // the handler never ran

    // Next minute: the minute window has room again, the hour window has 2 left.
    clock.ms = T + MIN + 5_000;
    expect((await send(gh, 'default', sk)).statusCode).toBe(200);
    const fifth = await send(gh, 'default', sk);
    expect(fifth.statusCode).toBe(200);
    // The hour window is now the tighter one and is the one reported.
    expect(fifth.headers).toMatchObject({
      'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String((T + HOUR) / 1000), ratelimit: '"default-3600s";r=0;t=3535',
    });
    const hourly = await send(gh, 'default', sk);
    expect(hourly.statusCode).toBe(429);
    expect(hourly.headers['retry-after']).toBe('3535');
    expect(hourly.json()).toMatchObject({ retry_after: 3535 });

    clock.ms = T + HOUR;
    expect((await send(gh, 'default', sk)).statusCode).toBe(200);
  });

  it('tiers: a guest (publishable key) and an admin (secret key) get their own tier limits', async () => {
    await setPolicy(gh, keys.secretKey, { default: { tiers: { guest: [w(2)], admin: [w(4)] } } });
    const pk = { apikey: keys.publishableKey };
    const sk = { apikey: keys.secretKey };
    for (let i = 0; i < 2; i++) expect((await send(gh, 'default', pk)).statusCode).toBe(200);
    const guestRefused = await send(gh, 'default', pk);
    expect(guestRefused.statusCode).toBe(429);
    expect(guestRefused.headers['x-ratelimit-limit']).toBe('2');
    for (let i = 0; i < 4; i++) expect((await send(gh, 'default', sk)).headers['x-ratelimit-limit']).toBe('4');
    expect((await send(gh, 'default', sk)).statusCode).toBe(429);
  });

  it('each route class has its own limits and counters, declared or derived from the path', async () => {
    await setPolicy(gh, keys.secretKey, {
      auth: { tiers: { admin: [w(1)] } }, llm: { tiers: { admin: [w(2)] } }, data_read: { tiers: { admin: [w(3)] } },
      data_write: { tiers: { admin: [w(4)] } }, default: { tiers: { admin: [w(5)] } },
    });
    const sk = { apikey: keys.secretKey };
    const cases: Array<[ProbeName, string, number]> = [
      ['auth', 'auth', 1], ['llmOpenai', 'llm', 2], ['dataRead', 'data_read', 3], ['dataWrite', 'data_write', 4], ['default', 'default', 5],
    ];
    for (const [probe, rc, limit] of cases) {
      for (let i = 0; i < limit; i++) {
        const ok = await send(gh, probe, sk);
        expect(ok.statusCode, `${probe} #${i}`).toBe(200);
        expect(ok.headers['ratelimit-policy']).toBe(`"${rc}-60s";q=${limit};w=60`);
      }
      expect((await send(gh, probe, sk)).statusCode, `${probe} over`).toBe(429);
    }
    // llm counts per class, not per provider: the Anthropic path shares the exhausted llm counter.
    expect((await send(gh, 'llmAnthropic', sk)).statusCode).toBe(429);
  });

  it('a 429 speaks each surface\'s dialect (ours, GoTrue, PostgREST, OpenAI, Anthropic)', async () => {
    const one = { tiers: { admin: [w(1)] } };
    await setPolicy(gh, keys.secretKey, { auth: one, llm: one, data_read: one, default: one });
    const sk = { apikey: keys.secretKey };
    const refusal = async (probe: ProbeName) => {
      await send(gh, probe, sk);
      const res = await send(gh, probe, sk);
      expect(res.statusCode).toBe(429);
      expect(res.headers['retry-after']).toBe('60');
      return res.json() as Record<string, unknown>;
    };
    expect(await refusal('default')).toMatchObject({ error: 'rate_limit_exceeded', retry_after: 60 });
    expect(await refusal('auth')).toMatchObject({ code: 429, error_code: 'rate_limit_exceeded', retry_after: 60 });
    expect(await refusal('dataRead')).toMatchObject({ code: 'rate_limit_exceeded', hint: null, details: null });
    expect(await refusal('llmOpenai')).toMatchObject({ error: { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' } });
    // The Anthropic path shares the llm counter the OpenAI path just exhausted.
    const anthropic = await send(gh, 'llmAnthropic', sk);
    expect(anthropic.statusCode).toBe(429);
    expect(anthropic.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('a per-key override lowers or raises one key\'s limits; removing it restores the tier', async () => {
    await setPolicy(gh, keys.secretKey, { default: { tiers: { guest: [w(2)], admin: [w(100)] } } });
    const ids = await keyIds(gh, keys.secretKey);
    const put = (subject: string, body: object) =>
      gh.app.inject({ method: 'PUT', url: `/admin/v1/limits/overrides/${subject}`, headers: { apikey: keys.secretKey }, payload: body });

    expect((await put(`key:${ids.sk}`, { default: [w(1)] })).statusCode).toBe(200);
    const sk = { apikey: keys.secretKey };
    expect((await send(gh, 'default', sk)).headers['x-ratelimit-limit']).toBe('1');
    expect((await send(gh, 'default', sk)).statusCode).toBe(429);

    // Raised for the publishable key: every guest of it gets 4 instead of 2.
    expect((await put(`key:${ids.pk}`, { default: [w(4)] })).statusCode).toBe(200);
    const pk = { apikey: keys.publishableKey };
    for (let i = 0; i < 4; i++) expect((await send(gh, 'default', pk)).statusCode).toBe(200);
    expect((await send(gh, 'default', pk)).statusCode).toBe(429);

    const removed = await gh.app.inject({ method: 'DELETE', url: `/admin/v1/limits/overrides/key:${ids.sk}`, headers: { apikey: keys.secretKey } });
    expect(removed.statusCode).toBe(204);
    const back = await send(gh, 'default', sk);
    expect(back.statusCode).toBe(200);
    // Same minute counter: 1 used under the override, this is the 2nd of 100.
    expect(back.headers).toMatchObject({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '98' });

    const listed = await gh.app.inject({ url: '/admin/v1/limits', headers: { apikey: keys.secretKey } });
    expect(listed.json()).toMatchObject({ overrides: [{ subject: `key:${ids.pk}`, limits: { default: [w(4)] } }] });
  });

  it('invalid settings are refused with 400 and nothing is stored', async () => {
    const sk = { apikey: keys.secretKey };
    const bad = [
      { method: 'PUT' as const, url: '/admin/v1/limits/policy', payload: { default: { tiers: { admin: [w(0)] } } } },
      { method: 'PUT' as const, url: '/admin/v1/limits/policy', payload: { default: { tiers: { admin: [w(5), w(9)] } } } },
      { method: 'PUT' as const, url: '/admin/v1/limits/policy', payload: { nonsense: {} } },
      { method: 'PUT' as const, url: '/admin/v1/limits/overrides/key:k_1', payload: { llm: [w(1, 1500)] } },
      { method: 'PUT' as const, url: '/admin/v1/limits/overrides/robot:k_1', payload: { llm: [w(1)] } },
    ];
    for (const req of bad) {
      const res = await gh.app.inject({ ...req, headers: sk });
      expect(res.statusCode, JSON.stringify(req.payload)).toBe(400);
      expect(res.json().error).toBe('validation_failed');
    }
    const state = (await gh.app.inject({ url: '/admin/v1/limits', headers: sk })).json();
    expect(state).toMatchObject({ policy: null, overrides: [] });
    expect(state.effective.classes.default.tiers.admin).toEqual([w(1000)]);
    // A publishable key cannot touch limits at all.
    const guest = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: keys.publishableKey }, payload: {} });
    expect(guest.statusCode).toBe(403);
  });

  it('a subject cannot reset its counter by re-spelling its key, moving it between headers, or changing case', async () => {
    await setPolicy(gh, keys.secretKey, { default: { tiers: { admin: [w(3)] } } });
    expect((await send(gh, 'default', { apikey: keys.secretKey })).statusCode).toBe(200);
    expect((await send(gh, 'default', { 'x-api-key': `  ${keys.secretKey}\t` })).statusCode).toBe(200);
    expect((await send(gh, 'default', { authorization: `Bearer ${keys.secretKey}` })).statusCode).toBe(200);
    const before = gh.hits.default;
    const variants: Array<Record<string, string>> = [{ apikey: keys.secretKey }, { 'x-api-key': ` ${keys.secretKey} ` }, { authorization: `bearer ${keys.secretKey}` }];
    for (const headers of variants) {
      const res = await send(gh, 'default', headers);
      expect(res.statusCode).toBe(429);
    }
    for (const variant of [keys.secretKey.toUpperCase(), keys.secretKey.toLowerCase()]) {
      const res = await send(gh, 'default', { apikey: variant });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_api_key');
    }
    expect(gh.hits.default).toBe(before);
    expect(gh.logs.join('\n')).not.toContain(keys.secretKey.slice(12));
  });

  it('a change made on one instance applies on another within a second, without a restart', async () => {
    const other = await startLimitsApp(engine, { clock, redisUrl: redis, rateLimits: ROOMY_ADDRESS, database: gh.database });
    try {
      const sk = { apikey: keys.secretKey };
      expect((await send(other, 'default', sk)).headers['x-ratelimit-limit']).toBe('1000'); // cached now
      await setPolicy(gh, keys.secretKey, { default: { tiers: { admin: [w(7)] } } });
      // The shared clock, not a sleep: just short of the settings cache's second the other
      // instance still answers from its cache, and once the second has passed it has the change.
      clock.ms += 999;
      expect((await send(other, 'default', sk)).headers['x-ratelimit-limit']).toBe('1000');
      clock.ms += 1;
      expect((await send(other, 'default', sk)).headers['x-ratelimit-limit']).toBe('7');
    } finally {
      await other.close();
    }
  });
});

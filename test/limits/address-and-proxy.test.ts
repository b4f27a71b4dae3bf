// The per-IP pre-check and the client address: floods of missing or invalid keys are limited by
// address before any key lookup; X-Forwarded-For is believed only from a configured trusted proxy.
import { afterEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { frozenClock, PROBES, startLimitsApp, storeCombos, type LimitsApp } from './limits-app.js';

const MIN = 60_000;
const COMBOS = storeCombos();
const ADDRESS_5 = { address: { failMode: 'open', windows: [{ limit: 5, windowMs: MIN }] } };
const BAD_KEY = 'pk_dev_aaaaaaaaaaaaaaaa_not-a-real-key';

describe.each(COMBOS)('client address limits ($engine, $store store)', ({ engine, redis }) => {
  const apps: LimitsApp[] = [];
  const start = async (options: { rateLimits?: unknown; trustProxy?: string; headers?: string } = {}) => {
    const gh = await startLimitsApp(engine, {
      clock: frozenClock(), redisUrl: redis, rateLimits: options.rateLimits ?? ADDRESS_5,
      // Both header families unless a test says otherwise: the IETF fields name the policy counted.
      env: { GATEHOUSE_RATE_LIMIT_HEADERS: options.headers ?? 'both', ...(options.trustProxy ? { GATEHOUSE_TRUST_PROXY: options.trustProxy } : {}) },
    });
    apps.push(gh);
    return gh;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  const get = (gh: LimitsApp, headers: Record<string, string>, remoteAddress?: string): Promise<LightMyRequestResponse> =>
    gh.app.inject({ url: PROBES.default.url, headers, ...(remoteAddress ? { remoteAddress } : {}) });

  it('a flood of invalid keys from one address is refused with 429 before any key lookup, other addresses unaffected', async () => {
    const gh = await start();
    for (let i = 0; i < 5; i++) {
      const res = await get(gh, { apikey: BAD_KEY });
      expect(res.statusCode).toBe(401);
      expect(res.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': String(4 - i), 'ratelimit-policy': '"address-60s";q=5;w=60' });
    }
    const refused = await get(gh, { apikey: BAD_KEY });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'rate_limit_exceeded' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Missing keys and even the valid key from that address are refused too: the fence is the address.
    expect((await get(gh, {})).statusCode).toBe(429);
    expect((await get(gh, { apikey: gh.secretKey })).statusCode).toBe(429);
    expect(gh.hits.default).toBe(0);
    // Only the 5 counted attempts were looked at (and logged as rejected keys); the refused ones never reached the key stage.
    expect(gh.logs.filter((l) => l.includes('"security_event":"api_key_rejected"'))).toHaveLength(5);
    // Another client is not affected.
    expect((await get(gh, { apikey: gh.secretKey }, '198.51.100.20')).statusCode).toBe(200);
  });

  it('the address budget is shown where no subject budget replaces it (public route, bad key), and only there', async () => {
    const gh = await start();
    // (Not /health: probes are outside the address ceiling, probes-not-address-limited.test.ts.)
    const spec = await gh.app.inject({ url: '/openapi.json' });
    expect(spec.headers).toMatchObject({ 'x-ratelimit-remaining': '4', 'ratelimit-policy': '"address-60s";q=5;w=60' });
    const keyed = await get(gh, { apikey: gh.secretKey });
    expect(keyed.statusCode).toBe(200);
    expect(String(keyed.headers['ratelimit-policy'])).not.toContain('address-');
    expect(String(keyed.headers['ratelimit'])).toMatch(/^"default-\d+s";r=\d+;t=\d+$/);
  });

  it('by default only X-RateLimit-* is sent, and a subject budget still replaces the address budget', async () => {
    const gh = await start({ headers: 'legacy' });
    const spec = await gh.app.inject({ url: '/openapi.json' });
    expect(spec.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4' });
    expect(spec.headers).not.toHaveProperty('ratelimit-policy');
    expect(spec.headers).not.toHaveProperty('ratelimit');
    const keyed = await get(gh, { apikey: gh.secretKey });
    expect(keyed.statusCode).toBe(200);
    // The secret key's own (default class, admin tier) budget, not the address's 5.
    expect(Number(keyed.headers['x-ratelimit-limit'])).toBeGreaterThan(5);
    expect(keyed.headers).not.toHaveProperty('ratelimit');
  });

  it('a spoofed X-Forwarded-For from an untrusted peer is ignored: the socket address is counted', async () => {
    const gh = await start({ rateLimits: { ...ADDRESS_5 } });
    for (let i = 0; i < 5; i++) expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': `203.0.113.${i + 1}` })).statusCode).toBe(401);
    expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': '203.0.113.99' })).statusCode).toBe(429);
  });

  it('guests of a publishable key are counted per client address, and spoofing X-Forwarded-For does not mint new guests', async () => {
    const gh = await start({ rateLimits: { address: { failMode: 'open', windows: [{ limit: 1000, windowMs: MIN }] } } });
    const put = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: gh.secretKey }, payload: { default: { tiers: { guest: [{ limit: 2, windowMs: MIN }] } } } });
    expect(put.statusCode).toBe(200);
    const pk = { apikey: gh.publishableKey };
    expect((await get(gh, { ...pk, 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(200);
    expect((await get(gh, { ...pk, 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(200);
    expect((await get(gh, { ...pk, 'x-forwarded-for': '203.0.113.3' })).statusCode).toBe(429);
    expect((await get(gh, { ...pk, 'x-forwarded-for': '203.0.113.3' })).statusCode).toBe(429);
    // A different guest (another address) has its own budget under the same key.
    expect((await get(gh, pk, '198.51.100.7')).statusCode).toBe(200);
    // One security event for the refused subject, not one per refusal.
    await gh.deps.events.flush();
    const events = await gh.app.inject({ url: '/admin/v1/security-events?type=rate_limited', headers: { apikey: gh.secretKey } });
    expect((events.json() as { events: unknown[] }).events).toHaveLength(1);
  });

  it('X-Forwarded-For is believed from a configured trusted proxy (GATEHOUSE_TRUST_PROXY), and only from it', async () => {
    const gh = await start({ trustProxy: '127.0.0.1' });
    // Eight clients behind the proxy: each has its own address budget of 5.
    for (let i = 0; i < 8; i++) expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': `203.0.113.${i + 1}` })).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': '203.0.113.50' })).statusCode).toBe(401);
    expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': '203.0.113.50' })).statusCode).toBe(429);
    // From a peer that is not the proxy, the header is ignored again.
    for (let i = 0; i < 5; i++) expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': `192.0.2.${i}` }, '198.51.100.9')).statusCode).toBe(401);
    expect((await get(gh, { apikey: BAD_KEY, 'x-forwarded-for': '192.0.2.200' }, '198.51.100.9')).statusCode).toBe(429);
  });
});

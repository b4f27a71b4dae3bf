// Rate-limit decisions are counted by route class, tier and decision, the per-address pre-check
// as class and tier `address`; no label holds the address, the user or the key. (Store errors by
// fail mode: test/limits/redis-shared.test.ts, with Redis stopped.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenClock, PROBES, startLimitsApp, storeCombos, type LimitsApp } from '../limits/limits-app.js';
import { delta, METRICS_TOKEN, scrape } from './scrape.js';

const DECISIONS = 'gatehouse_rate_limit_decisions_total';
const MIN = 60_000;

describe.each(storeCombos())('rate-limit decision metrics ($engine, $store store)', ({ engine, redis }) => {
  let gh: LimitsApp;
  beforeAll(async () => {
    gh = await startLimitsApp(engine, {
      clock: frozenClock(),
      redisUrl: redis,
      env: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN },
      rateLimits: {
        address: { failMode: 'open', windows: [{ limit: 3, windowMs: MIN }] },
        classes: { default: { failMode: 'open', tiers: { admin: [{ limit: 2, windowMs: MIN }], user: [{ limit: 1, windowMs: MIN }], guest: [{ limit: 1, windowMs: MIN }] } } },
      },
    });
  });
  afterAll(() => gh?.close());

  it('counts allowed and refused by route class and tier, each caller at its own tier', async () => {
    // Each request from its own address, so that only the subject budgets decide.
    let n = 0;
    const from = () => `203.0.113.${++n}`;
    const get = (apikey: string) => gh.app.inject({ url: PROBES.default.url, headers: { apikey }, remoteAddress: from() });
    const d = await delta(gh.app, async () => {
      expect((await get(gh.secretKey)).statusCode).toBe(200);
      expect((await get(gh.secretKey)).statusCode).toBe(200);
      expect((await get(gh.secretKey)).statusCode).toBe(429);
      // A publishable key's guests count by address: a fresh one each time is allowed.
      expect((await get(gh.publishableKey)).statusCode).toBe(200);
    });
    expect(d(DECISIONS, { route_class: 'default', tier: 'admin', decision: 'allowed' })).toBe(2);
    expect(d(DECISIONS, { route_class: 'default', tier: 'admin', decision: 'refused' })).toBe(1);
    expect(d(DECISIONS, { route_class: 'default', tier: 'guest', decision: 'allowed' })).toBe(1);
    expect(d('gatehouse_rate_limited_total', { route_class: 'default' })).toBe(1);
  });

  it('counts the per-address pre-check as class and tier address, the address itself in no label', async () => {
    const address = '198.51.100.77';
    const d = await delta(gh.app, async () => {
      for (let i = 0; i < 3; i++) expect((await gh.app.inject({ url: PROBES.default.url, remoteAddress: address })).statusCode).toBe(401);
      expect((await gh.app.inject({ url: PROBES.default.url, remoteAddress: address })).statusCode).toBe(429);
    });
    // The three above, and the scrape that read the counters (scrape.ts).
    expect(d(DECISIONS, { route_class: 'address', tier: 'address', decision: 'allowed' })).toBe(3 + 1);
    expect(d(DECISIONS, { route_class: 'address', tier: 'address', decision: 'refused' })).toBe(1);
    const text = (await scrape(gh.app)).text;
    for (const id of [address, '203.0.113.', gh.project.id, gh.secretKey.slice(0, 12)]) expect(text).not.toContain(id);
  });
});

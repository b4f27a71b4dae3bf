// A load balancer's probes (/health, /ready) come every few seconds from the same addresses: the
// per-address ceiling must never answer them 429 (that takes a healthy instance out of rotation),
// nor may they spend the address budget of that address's real requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { frozenClock, PROBES, startLimitsApp, type LimitsApp } from './limits-app.js';

const CEILING = 5;

describe.each(engines())('health probes and the address ceiling (%s)', (engine) => {
  let gh: LimitsApp;
  beforeAll(async () => {
    gh = await startLimitsApp(engine, { clock: frozenClock(), rateLimits: { address: { failMode: 'open', windows: [{ limit: CEILING, windowMs: 60_000 }] } } });
  });
  afterAll(() => gh?.close());

  it('four times the ceiling of /health and /ready probes are all answered; other routes from that address are still refused past it', async () => {
    for (let i = 0; i < 4 * CEILING; i++) {
      const health = await gh.app.inject({ url: '/health' });
      expect(health.statusCode, `health #${i}`).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });
      const ready = await gh.app.inject({ url: '/ready' });
      expect(ready.statusCode, `ready #${i}`).toBe(200);
      expect((await gh.app.inject({ method: 'HEAD', url: '/health' })).statusCode, `HEAD health #${i}`).toBe(200);
    }
    // The probes spent nothing: the address still has its whole budget, and then the ceiling holds.
    for (let i = 0; i < CEILING; i++) expect((await gh.app.inject({ url: PROBES.default.url, headers: { apikey: gh.secretKey } })).statusCode, `probe #${i}`).toBe(200);
    const refused = await gh.app.inject({ url: PROBES.default.url, headers: { apikey: gh.secretKey } });
    expect(refused.statusCode).toBe(429);
    expect((await gh.app.inject({ url: '/openapi.json' })).statusCode).toBe(429);
    expect((await gh.app.inject({ url: '/' })).statusCode).toBe(429);
    // And the probes still answer from the refused address.
    expect((await gh.app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await gh.app.inject({ url: '/ready' })).statusCode).toBe(200);
  });
});

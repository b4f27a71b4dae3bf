// GET /metrics is never public: the metrics token (constant-time compare) or a secret key that
// holds the admin:metrics scope (an unscoped secret key holds every scope). It counts responses by class and status, 429s, and store failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { frozenClock, PROBES, startLimitsApp, type LimitsApp } from '../limits/limits-app.js';

const TOKEN = 'metrics-token-0123456789abcdef-0123456789';

describe.each(engines())('GET /metrics (%s)', (engine) => {
  let gh: LimitsApp;
  beforeAll(async () => {
    gh = await startLimitsApp(engine, { clock: frozenClock(), env: { GATEHOUSE_METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => gh?.close());

  it('refuses anonymous callers, a wrong token, a publishable key and a secret key scoped without admin:metrics', async () => {
    const narrow = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', scopes: ['data:*:read'] } });
    expect(narrow.statusCode, narrow.body).toBe(201);
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 401, 'missing_api_key'],
      [{ authorization: `Bearer ${TOKEN}x` }, 401, 'invalid_token'],
      [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 401, 'invalid_token'],
      [{ apikey: gh.publishableKey }, 403, 'insufficient_scope'],
      [{ apikey: narrow.json().key }, 403, 'insufficient_scope'],
    ];
    for (const [headers, status, code] of cases) {
      const res = await gh.app.inject({ url: '/metrics', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(status);
      expect(res.json().error).toBe(code);
      expect(res.body).not.toContain('gatehouse_http_requests_total');
    }
    expect(gh.logs.join('\n')).not.toContain(TOKEN.slice(8));
  });

  it('answers the token and a secret key scoped admin:metrics, with request, 429 and class counters', async () => {
    const put = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: gh.secretKey }, payload: { default: { tiers: { admin: [{ limit: 1, windowMs: 60_000 }] } } } });
    expect(put.statusCode).toBe(200);
    expect((await gh.app.inject({ url: PROBES.default.url, headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
    expect((await gh.app.inject({ url: PROBES.default.url, headers: { apikey: gh.secretKey } })).statusCode).toBe(429);

    const byToken = await gh.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byToken.statusCode).toBe(200);
    expect(byToken.headers['content-type']).toMatch(/^text\/plain/);
    expect(byToken.body).toContain('gatehouse_rate_limited_total{route_class="default"} 1');
    expect(byToken.body).toContain('gatehouse_http_requests_total{route_class="default",status="200"} 1');
    expect(byToken.body).toContain('gatehouse_http_requests_total{route_class="default",status="429"} 1');
    expect(byToken.body).toContain('# TYPE gatehouse_rate_limit_store_errors_total counter');
    // No tenant in any label.
    expect(byToken.body).not.toContain(gh.project.id);

    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', scopes: ['admin:metrics'] } });
    expect(created.statusCode).toBe(201);
    const byKey = await gh.app.inject({ url: '/metrics', headers: { apikey: created.json().key } });
    expect(byKey.statusCode).toBe(200);
    expect(byKey.body).toContain('gatehouse_rate_limited_total');
  });

  it('answers an unscoped secret key: it holds every scope, admin:metrics included', async () => {
    const res = await gh.app.inject({ url: '/metrics', headers: { apikey: gh.secretKey } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE gatehouse_http_requests_total counter');
    // Totals only: no tenant in any label.
    expect(res.body).not.toContain(gh.project.id);
  });
});

// Request durations (by surface, route pattern, method and status class) and auth outcomes (by
// kind and reason code) move when their event happens, through the public API; no label ever
// holds a project, user, key, email, IP or raw URL; default metrics carry one `gatehouse_` prefix.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';
import { delta, METRICS_TOKEN, scrape } from './scrape.js';

const DURATION = 'gatehouse_http_request_duration_seconds_count';
const AUTH = 'gatehouse_auth_outcomes_total';
const EXTERNAL_SECRET = 'external-issuer-hmac-secret-with-at-least-32-characters';
const EXTERNAL_ISS = 'https://idp-metrics.example/auth/v1';

describe.each(engines())('request and auth metrics (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.now();
  beforeAll(async () => {
    gh = await startTestApp(engine, { env: { ...generousAuthLimitsEnv(), GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN }, clock: clockAt(() => nowMs) });
  });
  afterAll(() => gh?.close());

  it('times each response by surface, route pattern, method and status class, never by URL', async () => {
    const table = 'tbl_distinctive_7f3a9';
    const secret = { apikey: gh.secretKey };
    const d = await delta(gh.app, async () => {
      expect((await gh.app.inject({ url: `/rest/v1/${table}?id=eq.zz_value_91`, headers: secret })).statusCode).toBe(404);
      expect((await gh.app.inject({ url: `/rest/v1/${table}`, headers: secret })).statusCode).toBe(404);
      expect((await gh.app.inject({ url: '/admin/v1/keys', headers: secret })).statusCode).toBe(200);
      expect((await gh.app.inject({ url: '/nowhere_distinctive_42', headers: secret })).statusCode).toBe(404);
      expect((await gh.app.inject({ method: 'PROPFIND', url: '/auth/v1/nowhere_distinctive_43', headers: secret })).statusCode).toBe(404);
    });
    expect(d(DURATION, { surface: 'rest', route: '/rest/v1/:table', method: 'GET', status_class: '4xx' })).toBe(2);
    expect(d(DURATION, { surface: 'admin', route: '/admin/v1/keys', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(d(DURATION, { surface: 'ops', route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(d(DURATION, { surface: 'auth', route: 'unmatched', method: 'other', status_class: '4xx' })).toBe(1);
    expect(d('gatehouse_http_requests_total', { route_class: 'data_read', status: '404' })).toBe(2);
    expect(d('gatehouse_http_requests_total', { route_class: 'unmatched', status: '404' })).toBe(2);

    const text = (await scrape(gh.app)).text;
    expect(text).toMatch(/^gatehouse_http_request_duration_seconds_bucket\{le="0\.005",surface="admin",route="\/admin\/v1\/keys",method="GET",status_class="2xx"\} /m);
    for (const raw of [table, 'zz_value_91', 'nowhere_distinctive', 'PROPFIND']) expect(text).not.toContain(raw);
  });

  it('exports default metrics under one gatehouse_ prefix (event-loop lag among them)', async () => {
    const s = await scrape(gh.app);
    for (const name of ['gatehouse_process_cpu_seconds_total', 'gatehouse_nodejs_eventloop_lag_seconds', 'gatehouse_nodejs_eventloop_lag_p99_seconds', 'gatehouse_nodejs_heap_size_used_bytes']) {
      expect(s.has(name), name).toBe(true);
    }
    expect(s.text).not.toContain('process_process_');
  });

  it('counts sign-up, sign-in and refresh outcomes by the error code the client saw', async () => {
    const email = `metrics-distinctive-${Date.now()}@example.test`;
    const password = 'a-long-enough-password-1';
    const pk = { apikey: gh.publishableKey };
    let refreshToken = '';
    let userId = '';
    const d = await delta(gh.app, async () => {
      const up = await gh.app.inject({ method: 'POST', url: '/auth/v1/signup', headers: pk, payload: { email, password } });
      expect(up.statusCode, up.body).toBe(200);
      userId = up.json().user.id;
      const weak = await gh.app.inject({ method: 'POST', url: '/auth/v1/signup', headers: pk, payload: { email: `x-${email}`, password: 'short' } });
      expect(weak.statusCode).toBe(422);
      expect(weak.json().error_code).toBe('weak_password');
      const wrong = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: pk, payload: { email, password: `${password}x` } });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().error_code).toBe('invalid_credentials');
      const ok = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: pk, payload: { email, password } });
      expect(ok.statusCode).toBe(200);
      refreshToken = ok.json().refresh_token;
      const refreshed = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=refresh_token', headers: pk, payload: { refresh_token: refreshToken } });
      expect(refreshed.statusCode).toBe(200);
      const bogus = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=refresh_token', headers: pk, payload: { refresh_token: 'not-a-refresh-token-at-all' } });
      expect(bogus.json().error_code).toBe('refresh_token_not_found');
    });
    expect(d(AUTH, { kind: 'sign_up', outcome: 'success', reason: 'ok' })).toBe(1);
    expect(d(AUTH, { kind: 'sign_up', outcome: 'failure', reason: 'weak_password' })).toBe(1);
    expect(d(AUTH, { kind: 'sign_in', outcome: 'failure', reason: 'invalid_credentials' })).toBe(1);
    expect(d(AUTH, { kind: 'sign_in', outcome: 'success', reason: 'ok' })).toBe(1);
    expect(d(AUTH, { kind: 'refresh', outcome: 'success', reason: 'ok' })).toBe(1);
    expect(d(AUTH, { kind: 'refresh', outcome: 'failure', reason: 'refresh_token_not_found' })).toBe(1);
    const text = (await scrape(gh.app)).text;
    for (const id of [email, userId, refreshToken, gh.project.id]) expect(text).not.toContain(id);
  });

  it('counts API keys accepted, missing, forged and revoked, by reason', async () => {
    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } });
    expect(created.statusCode).toBe(201);
    const { key, id } = created.json();
    // Same prefix, one character changed: the checksum no longer holds.
    const forged = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    const d = await delta(gh.app, async () => {
      expect((await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: key } })).statusCode).toBe(200);
      expect((await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${id}/revoke`, headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
      expect((await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: key } })).json().error).toBe('invalid_api_key');
      expect((await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: forged } })).json().error).toBe('invalid_api_key');
      expect((await gh.app.inject({ url: '/admin/v1/keys' })).json().error).toBe('missing_api_key');
    });
    expect(d(AUTH, { kind: 'api_key', outcome: 'success', reason: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(d(AUTH, { kind: 'api_key', outcome: 'failure', reason: 'api_key_revoked' })).toBe(1);
    expect(d(AUTH, { kind: 'api_key', outcome: 'failure', reason: 'api_key_checksum' })).toBe(1);
    expect(d(AUTH, { kind: 'api_key', outcome: 'failure', reason: 'api_key_missing' })).toBe(1);
    const text = (await scrape(gh.app)).text;
    for (const secret of [key, id, key.slice(0, 12)]) expect(text).not.toContain(secret);
  });

  it('counts user tokens and external issuers\' tokens apart, refusals by reason', async () => {
    const issuer = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey }, payload: { kind: 'supabase', issuer: EXTERNAL_ISS, hmac_secret: EXTERNAL_SECRET } });
    expect(issuer.statusCode, issuer.body).toBe(201);
    const email = `metrics-token-${Date.now()}@example.test`;
    const up = await gh.app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { apikey: gh.publishableKey }, payload: { email, password: 'a-long-enough-password-2' } });
    const token: string = up.json().access_token;
    const nowS = Math.floor(nowMs / 1000);
    const external = (secret: string) => new SignJWT({ iss: EXTERNAL_ISS, sub: 'ext-sub-distinctive', aud: 'authenticated', role: 'authenticated', iat: nowS, exp: nowS + 600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
    const me = (bearer: string) => gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${bearer}` } });
    const [head, body] = token.split('.');
    const d = await delta(gh.app, async () => {
      expect((await me(token)).statusCode).toBe(200);
      expect((await me(`${head}.${body}.AAAA`)).statusCode).toBe(401);
      expect((await me(await external(EXTERNAL_SECRET))).statusCode).toBe(200);
      expect((await me(await external(`${EXTERNAL_SECRET}-wrong`))).statusCode).toBe(401);
      nowMs += 2 * 3600_000; // past the access token's lifetime
      const expired = await me(token);
      nowMs -= 2 * 3600_000;
      expect(expired.json().details.reason).toBe('expired');
    });
    expect(d(AUTH, { kind: 'user_token', outcome: 'success', reason: 'ok' })).toBe(1);
    expect(d(AUTH, { kind: 'user_token', outcome: 'failure', reason: 'token_bad_signature' })).toBe(1);
    expect(d(AUTH, { kind: 'user_token', outcome: 'failure', reason: 'token_expired' })).toBe(1);
    expect(d(AUTH, { kind: 'external_token', outcome: 'success', reason: 'ok' })).toBe(1);
    expect(d(AUTH, { kind: 'external_token', outcome: 'failure', reason: 'token_bad_signature' })).toBe(1);
    const text = (await scrape(gh.app)).text;
    for (const id of [token, head!, 'ext-sub-distinctive', EXTERNAL_ISS, email]) expect(text).not.toContain(id);
  });
});

describe('GATEHOUSE_METRICS=off', () => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp('sqlite', { env: { GATEHOUSE_METRICS: 'off', GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(() => gh?.close());

  it('records nothing and serves no /metrics, while requests still work', async () => {
    expect((await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
    const res = await gh.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('gatehouse_');
    expect(await gh.deps.metrics.registry.metrics()).not.toMatch(/^gatehouse_(http_request_duration_seconds|auth_outcomes_total|process_cpu)/m);
  });
});

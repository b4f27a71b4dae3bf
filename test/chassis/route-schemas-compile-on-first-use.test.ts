// Issue 18: route schemas are compiled on a route's first request, not at start-up
// (src/http/lazy-schemas.ts). What must not change: every schema still compiles (checked here for
// the whole app, since a bad one would otherwise surface only on its route's first call), and a
// route's first request is validated, coerced and refused exactly as an eagerly compiled one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { compileAllSchemas } from '../../src/http/lazy-schemas.js';

describe('route schemas compile on first use', () => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp('sqlite'); });
  afterAll(async () => { await gh?.close(); });

  it('refuses a bad body on the first request of its route with a 4xx, not a 500', async () => {
    const res = await gh.app.inject({
      method: 'POST', url: '/auth/v1/signup', headers: { apikey: gh.publishableKey, 'content-type': 'application/json' },
      payload: { email: `${'x'.repeat(400)}@example.test`, password: 'long enough pw' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error_code: 'validation_failed' });
  });

  it('coerces and bounds a querystring on the first request of its route', async () => {
    const ok = await gh.app.inject({ url: '/admin/v1/users?limit=2', headers: { apikey: gh.secretKey } });
    expect(ok.statusCode).toBe(200);
    const refused = await gh.app.inject({ url: '/admin/v1/users?limit=zero', headers: { apikey: gh.secretKey } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: 'validation_failed' });
  });

  it('serialises a response through its route schema on first use', async () => {
    const res = await gh.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('compiles every remaining route schema without error', () => {
    const pending = compileAllSchemas(gh.app);
    // Hundreds of schemas across the surfaces; a handful were compiled by the requests above.
    expect(pending).toBeGreaterThan(100);
    expect(compileAllSchemas(gh.app)).toBe(0);
  });
});

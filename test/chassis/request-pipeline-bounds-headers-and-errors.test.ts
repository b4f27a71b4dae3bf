import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

// The request pipeline does not depend on the storage engine; one engine is enough here.
describe('request pipeline', () => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp('sqlite', { env: { GATEHOUSE_JSON_BODY_LIMIT: '1048576' } });
  });
  afterAll(async () => {
    await gh.close();
  });

  const post = (payload: string | Buffer, headers: Record<string, string> = {}) =>
    gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey, 'content-type': 'application/json', ...headers }, payload });

  async function keyCount(): Promise<number> {
    return (await gh.deps.storage.db.selectFrom('api_keys').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
  }

  it('puts a request id on every response, keeping a well-formed incoming one', async () => {
    const res = await gh.app.inject({ url: '/health' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await gh.app.inject({ url: '/health', headers: { 'x-request-id': 'client-trace-12345' } });
    expect(kept.headers['x-request-id']).toBe('client-trace-12345');
    const refused = await gh.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets the page security headers on HTML and docs responses', async () => {
    for (const url of ['/', '/docs/']) {
      const res = await gh.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['content-security-policy'], url).toBeDefined();
      // No TLS here, so no HSTS (first-run-keys-once-and-tls.test.ts covers the TLS case).
      expect(res.headers['strict-transport-security'], url).toBeUndefined();
    }
    expect((await gh.app.inject({ url: '/' })).headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('keeps only nosniff on JSON answers, errors included: page policies protect nothing there (issue 18)', async () => {
    const answers = [
      await gh.app.inject({ url: '/health' }),
      await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: gh.secretKey } }),
      await gh.app.inject({ url: '/rest/v1/nothing', headers: { apikey: gh.publishableKey } }),
      await gh.app.inject({ url: '/nope' }),
    ];
    for (const res of answers) {
      expect(res.headers['content-type']).toMatch(/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      for (const name of ['content-security-policy', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection']) {
        expect(res.headers, `${res.statusCode} ${name}`).not.toHaveProperty(name);
      }
    }
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await gh.app.inject({ url: '/nope/../etc/passwd' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'route_not_found', message: expect.any(String), request_id: res.headers['x-request-id'] });
  });

  it('rejects a body over the JSON limit with 413 and creates nothing', async () => {
    const before = await keyCount();
    const res = await post(JSON.stringify({ kind: 'secret', name: 'x'.repeat(1_100_000) }));
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe('payload_too_large');
    expect(await keyCount()).toBe(before);
  });

  it('rejects a wrong content type with 415', async () => {
    const before = await keyCount();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post('kind=secret', { 'content-type': type });
      expect(res.statusCode).toBe(415);
      expect(res.json().error).toBe('unsupported_media_type');
    }
    expect(await keyCount()).toBe(before);
  });

  it('rejects malformed JSON with 400', async () => {
    for (const body of ['{"kind": "secret"', '{kind: secret}', '\u0000', '[1,2,']) {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_json');
    }
  });

  it('refuses prototype-pollution keys instead of parsing them', async () => {
    for (const body of ['{"kind":"secret","__proto__":{"admin":true}}', '{"kind":"secret","constructor":{"prototype":{"admin":true}}}']) {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_json');
      expect(res.json().message).toMatch(/forbidden key/);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses JSON nested too deeply or with too many keys', async () => {
    const deep = '{"kind":"secret","name":' + '['.repeat(100) + ']'.repeat(100) + '}';
    const deepRes = await post(deep);
    expect(deepRes.statusCode).toBe(400);
    expect(deepRes.json()).toMatchObject({ error: 'json_too_complex', message: expect.stringMatching(/deeper than 64/) });
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, 1])));
    const wideRes = await post(wide);
    expect(wideRes.statusCode).toBe(400);
    expect(wideRes.json()).toMatchObject({ error: 'json_too_complex', message: expect.stringMatching(/more than 10000 object keys/) });
  });

  it('validates bodies against the route schema and says which field is wrong', async () => {
    const res = await post(JSON.stringify({ kind: 'root' }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed' });
    expect(res.json().details[0].field).toMatch(/^body/);
    const extra = await post(JSON.stringify({ kind: 'secret', admin: true }));
    expect(extra.statusCode).toBe(400);
  });

  it('never sends a stack trace, and logs bad requests as security events without secrets', async () => {
    const res = await post('{"kind":');
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
    await gh.deps.events.flush();
    const events = await gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', 'malformed_request').execute();
    expect(events.length).toBeGreaterThan(0);
    const everything = JSON.stringify(events) + gh.logs.join('\n');
    expect(everything).not.toContain(gh.secretKey);
    expect(everything).not.toContain(gh.publishableKey);
  });

  it('redacts credentials from request logs', async () => {
    await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey, authorization: `Bearer ${gh.secretKey}`, cookie: 'session=abc' } });
    const logs = gh.logs.join('\n');
    expect(logs).toContain('/admin/v1/project');
    expect(logs).not.toContain(gh.secretKey);
    expect(logs).not.toContain('session=abc');
  });

  it('serves health, readiness, the OpenAPI document and the docs without a key', async () => {
    expect((await gh.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await gh.app.inject({ url: '/ready' })).json()).toEqual({ status: 'ready' });
    const spec = await gh.app.inject({ url: '/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe('3.1.0');
    expect(Object.keys(spec.json().paths)).toEqual(expect.arrayContaining(['/admin/v1/keys', '/admin/v1/keys/{id}/rotate', '/health']));
    const docs = await gh.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });

  describe('client IP and trusted proxies', () => {
    async function lastEventIp(app: TestApp): Promise<string | null> {
      await app.deps.events.flush();
      const row = await app.deps.storage.db.selectFrom('security_events').select('ip').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      return row.ip;
    }

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      await gh.app.inject({ url: '/admin/v1/keys', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '198.51.100.7' });
      expect(await lastEventIp(gh)).toBe('198.51.100.7');
    });

    it('believes X-Forwarded-For only from a configured trusted proxy', async () => {
      const behind = await startTestApp('sqlite', { env: { GATEHOUSE_TRUST_PROXY: '10.0.0.0/8' } });
      try {
        await behind.app.inject({ url: '/admin/v1/keys', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '10.1.2.3' });
        expect(await lastEventIp(behind)).toBe('203.0.113.9');
        await behind.app.inject({ url: '/admin/v1/keys', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '198.51.100.7' });
        expect(await lastEventIp(behind)).toBe('198.51.100.7');
      } finally {
        await behind.close();
      }
    });
  });
});

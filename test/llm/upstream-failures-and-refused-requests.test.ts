import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { assertNoSecrets, startLlmTest, type LlmTest } from './setup.js';

/** A raw request: Node keeps the path exactly as given (fetch and inject would normalise it). */
function raw(t: LlmTest, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const url = new URL(t.gh.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A POST whose headers announce a body that is never sent: an answer proves the refusal came
 * before the body was read (a proxy that read it would wait for the body until the test ends).
 */
function withoutBody(t: LlmTest, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const url = new URL(t.gh.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path: '/llm/openai/v1/chat/completions', method: 'POST', headers: { ...headers, 'content-length': '1000' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe.each(engines())('LLM proxy faults and rejections (%s)', (engine) => {
  let t: LlmTest;
  const userHeaders = () => ({ apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' });
  const chat = (extra: object = {}) => JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], ...extra });
  beforeAll(async () => {
    t = await startLlmTest(engine, {
      env: { GATEHOUSE_LLM_HEADERS_TIMEOUT_MS: '400', GATEHOUSE_LLM_BODY_IDLE_TIMEOUT_MS: '400', GATEHOUSE_JSON_BODY_LIMIT: '4096', GATEHOUSE_BODY_LIMIT: '8192' },
    });
  });
  afterAll(async () => {
    assertNoSecrets(t);
    await t.close();
  });
  beforeEach(() => t.fake.reset());

  it('a publishable key alone is 401 in the OpenAI shape and nothing goes upstream', async () => {
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: { apikey: t.gh.publishableKey, 'content-type': 'application/json' }, body: chat() });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'user_token_required', type: 'invalid_request_error' } });
    const forged = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: { ...userHeaders(), authorization: 'Bearer not.a.jwt' }, body: chat() });
    expect(forged.status).toBe(401);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a secret key passes (server-side use) and is not limited to one user\'s resources', async () => {
    const res = await fetch(`${t.gh.url}/llm/openai/v1/models`, { headers: { apikey: t.gh.secretKey } });
    expect(res.status).toBe(200);
    expect(t.fake.requests).toHaveLength(1);
  });

  it.each([
    ['/llm/openai/v1/files/../organization/users', 'dot segments'],
    ['/llm/openai/v1/files/%2e%2e/organization/users', 'encoded dots'],
    ['/llm/openai/v1/files%2F..%2Forganization', 'encoded slashes'],
    ['/llm/openai/v1//organization/users', 'double slashes'],
    ['/llm/openai/v1/files/x\\..\\organization', 'backslashes'],
    ['/llm/openai/v1/models/%252e%252e', 'double encoding'],
  ])('path trick %s (%s) is 400 and never forwarded', async (path) => {
    const res = await raw(t, path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('an absolute URL as request target is refused', async () => {
    const res = await raw(t, `http://evil.example/llm/openai/v1/models`);
    expect([400, 404]).toContain(res.status);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('an unknown provider is 404; a whitelisted prefix does not open longer paths', async () => {
    expect((await raw(t, '/llm/nope/v1/models')).status).toBe(404);
    const longer = await raw(t, '/llm/openai/v1/files/file-abc/content/extra');
    expect(longer.status).toBe(403);
    expect(longer.body.error.code).toBe('llm_endpoint_not_allowed');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('malformed and prototype-poisoning JSON are 400 before upstream', async () => {
    for (const body of ['{"model": ', '{"__proto__": {"admin": true}}']) {
      const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body });
      expect(res.status).toBe(400);
      expect((await res.json() as any).error.code).toBe('invalid_json');
    }
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a JSON endpoint refuses other content types, so ids cannot hide in a text/plain body', async () => {
    const { bob } = t;
    const body = JSON.stringify({ model: 'gpt-fake', input: 'x', previous_response_id: 'resp_someone_else' });
    const res = await fetch(`${t.gh.url}/llm/openai/v1/responses`, { method: 'POST', headers: { ...userHeaders(), authorization: `Bearer ${bob.accessToken}`, 'content-type': 'text/plain' }, body });
    expect(res.status).toBe(415);
    expect((await res.json() as any).error.code).toBe('unsupported_media_type');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('oversized bodies are 413: JSON past its limit, uploads past theirs', async () => {
    const big = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat({ pad: 'x'.repeat(5000) }) });
    expect(big.status).toBe(413);
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob([new Uint8Array(10_000)]), 'big.bin');
    const upload = await fetch(`${t.gh.url}/llm/openai/v1/files`, { method: 'POST', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}` }, body: form });
    expect(upload.status).toBe(413);
    expect((await upload.json() as any).error.code).toBe('payload_too_large');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('provider 5xx and resets become 502, a provider 401 never shows its masked key', async () => {
    t.fake.mode.failStatus = 503;
    const failed = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat() });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ error: { code: 'upstream_failed', type: 'server_error' } });
    expect(t.fake.requests).toHaveLength(1); // no retry of a POST
    t.fake.mode = { reset: true };
    const reset = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat() });
    expect(reset.status).toBe(502);
    expect(t.fake.requests).toHaveLength(2);
    t.fake.mode = {};
    await t.admin('PUT', '/admin/v1/providers/openai', { api_key: 'sk-wrong-key-000000' });
    const badKey = await fetch(`${t.gh.url}/llm/openai/v1/models`, { headers: userHeaders() });
    const text = await badKey.text();
    expect(badKey.status).toBe(502);
    expect(text).not.toContain('sk-fak');
    const { FAKE_KEYS } = await import('../harness/fake-llm/index.js');
    await t.admin('PUT', '/admin/v1/providers/openai', { api_key: FAKE_KEYS.openai });
  });

  it('an upstream that sends no headers in time gives 504', async () => {
    t.fake.mode.stallHeaders = true;
    const started = Date.now();
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat() });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a stream that goes silent is ended by the idle timeout', async () => {
    t.fake.mode.stallBody = true;
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat({ stream: true }) });
    expect(res.status).toBe(200);
    const started = Date.now();
    await res.text().catch(() => '');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a client that disconnects mid-stream aborts the upstream request', async () => {
    t.fake.mode = { chunkDelayMs: 100, streamChunks: 100 };
    const errorsBefore = t.gh.logs.filter((l) => /"level":50/.test(l)).length;
    const abort = new AbortController();
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat({ stream: true }), signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('data: ');
    abort.abort();
    await t.fake.waitForAborted(1, 5000);
    expect(t.fake.aborted).toBe(1);
    // A client going away is normal: no error-level log for it.
    await new Promise((r) => setTimeout(r, 50));
    expect(t.gh.logs.filter((l) => /"level":50/.test(l)).slice(errorsBefore)).toEqual([]);
  });

  it('provider account headers are not passed to the caller', async () => {
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body: chat() });
    expect(res.status).toBe(200);
    expect(res.headers.get('openai-organization')).toBeNull();
    expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('a user over the daily token quota gets 429 in the provider shape; others are unaffected', async () => {
    expect((await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 25, tokens_per_month: null })).status).toBe(200);
    const bobHeaders = { ...userHeaders(), authorization: `Bearer ${t.bob.accessToken}` };
    const send = (headers: Record<string, string>, body = chat()) => fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers, body });
    // Earlier tests in this file spent some of alice's tokens today; spend until refused.
    let refused: Response | null = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await send(userHeaders(), i % 2 ? chat({ stream: true }) : chat());
      await res.text();
      await t.gh.deps.llm.flush();
      if (res.status === 429) refused = res;
    }
    expect(refused).not.toBeNull();
    t.fake.reset();
    const again = await send(userHeaders());
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await again.json()).toMatchObject({ error: { code: 'token_quota_exceeded', type: 'rate_limit_exceeded' } });
    // Refused before the body is read: headers announcing a body that never comes get the answer.
    const unsent = await withoutBody(t, userHeaders());
    expect(unsent.status).toBe(429);
    expect(unsent.body).toMatchObject({ error: { code: 'token_quota_exceeded' } });
    expect(t.fake.requests).toHaveLength(0);
    const bobRes = await send(bobHeaders);
    expect(bobRes.status, await bobRes.text()).toBe(200);
    await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: null, tokens_per_month: null });
  });
});

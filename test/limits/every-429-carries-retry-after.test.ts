// Every surface's 429 tells the client when to retry twice, and the same way: the `Retry-After`
// header and a `retry_after` field in the body of the surface's own dialect (ours, GoTrue,
// PostgREST, OpenAI, Anthropic, Gemini), whether the subject's counter or the address's refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { frozenClock, startLimitsApp, type LimitsApp } from './limits-app.js';

const MIN = 60_000;
const one = { tiers: { admin: [{ limit: 1, windowMs: MIN }] } };

/** Sends the request until it is refused (at most 5 times) and returns the refusal. */
async function refusal(send: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  for (let i = 0; i < 5; i++) {
    const res = await send();
    if (res.statusCode === 429) return res;
  }
  throw new Error('never refused');
}

function expectRetryAfterInBody(res: LightMyRequestResponse): Record<string, unknown> {
  expect(res.statusCode).toBe(429);
  const header = Number(res.headers['retry-after']);
  expect(header).toBeGreaterThan(0);
  const body = res.json() as Record<string, unknown>;
  expect(body.retry_after, res.body).toBe(header);
  expect(body.request_id).toBe(res.headers['x-request-id']);
  return body;
}

describe('every 429 carries retry_after equal to Retry-After', () => {
  let gh: LimitsApp;
  beforeAll(async () => {
    gh = await startLimitsApp('sqlite', {
      clock: frozenClock(),
      rateLimits: { address: { failMode: 'open', windows: [{ limit: 1_000, windowMs: MIN }] } },
    });
    const put = await gh.app.inject({
      method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: gh.secretKey },
      payload: { auth: one, llm: one, data_read: one, data_write: one, default: one, admin: { tiers: { admin: [{ limit: 3, windowMs: MIN }] } } },
    });
    expect(put.statusCode, put.body).toBe(200);
  });
  afterAll(() => gh?.close());

  const sk = () => ({ apikey: gh.secretKey });
  const call = (method: 'GET' | 'POST', url: string) => () =>
    gh.app.inject({ method, url, headers: sk(), ...(method === 'POST' ? { payload: {} } : {}) });

  it('/rest/v1 (PostgREST dialect), reads and writes', async () => {
    const read = expectRetryAfterInBody(await refusal(call('GET', '/rest/v1/__limits_probe')));
    expect(read).toMatchObject({ code: 'rate_limit_exceeded', hint: null, details: null });
    const write = expectRetryAfterInBody(await refusal(call('POST', '/rest/v1/__limits_probe')));
    expect(write).toMatchObject({ code: 'rate_limit_exceeded', hint: null });
  });

  it('/auth/v1 (GoTrue dialect)', async () => {
    expect(expectRetryAfterInBody(await refusal(call('POST', '/auth/v1/__limits_probe')))).toMatchObject({ code: 429, error_code: 'rate_limit_exceeded' });
  });

  it('/llm in each provider dialect (OpenAI, Anthropic, Gemini share the llm counter)', async () => {
    expect(expectRetryAfterInBody(await refusal(call('POST', '/llm/openai/v1/__limits_probe')))).toMatchObject({ error: { type: 'rate_limit_exceeded' } });
    expect(expectRetryAfterInBody(await refusal(call('POST', '/llm/anthropic/v1/__limits_probe')))).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(expectRetryAfterInBody(await refusal(call('POST', '/llm/gemini/v1beta/models/x:generateContent')))).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  });

  it('/admin/v1 and the other routes (our dialect)', async () => {
    expect(expectRetryAfterInBody(await refusal(call('GET', '/admin/v1/keys')))).toMatchObject({ error: 'rate_limit_exceeded' });
    expect(expectRetryAfterInBody(await refusal(call('GET', '/__limits_probe')))).toMatchObject({ error: 'rate_limit_exceeded' });
  });
});

describe('the address ceiling\'s 429 carries retry_after too, in the surface\'s dialect', () => {
  let gh: LimitsApp;
  beforeAll(async () => {
    gh = await startLimitsApp('sqlite', { clock: frozenClock(), rateLimits: { address: { failMode: 'open', windows: [{ limit: 1, windowMs: MIN }] } } });
  });
  afterAll(() => gh?.close());

  it('on /rest/v1 (PostgREST) and /llm/openai', async () => {
    const rest = await refusal(() => gh.app.inject({ url: '/rest/v1/__limits_probe' }));
    expect(expectRetryAfterInBody(rest)).toMatchObject({ code: 'rate_limit_exceeded', hint: null });
    const llm = await refusal(() => gh.app.inject({ method: 'POST', url: '/llm/openai/v1/chat/completions', payload: {} }));
    expect(expectRetryAfterInBody(llm)).toMatchObject({ error: { type: 'rate_limit_exceeded' } });
  });
});

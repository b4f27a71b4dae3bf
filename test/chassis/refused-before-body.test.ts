// Rule: a caller the pipeline refuses — a bad credential (401), a key without the route's scope
// (403), a subject over its rate limit (429) — is answered in onRequest, before its body is
// read. The body parser never runs for it: invalid JSON earns the refusal, not a 400, leaves no
// malformed_request event, and a body that never finishes arriving does not hold the answer back.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { frozenClock, PROBES, startLimitsApp, type LimitsApp, type SettableClock } from '../limits/limits-app.js';

const HOUR = 3_600_000;
const ROOMY_ADDRESS = { address: { failMode: 'open', windows: [{ limit: 1_000_000, windowMs: 60_000 }] } };
const INVALID_JSON = '{"model": "gpt", "messages": [';

/** Sends the headers and half of the declared body, and never the rest: only an answer that needs no body comes back. */
function halfSentBody(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': '1000' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.write('{"rows": [');
  });
}

describe('a refused request is answered before its body is read', () => {
  let gh: LimitsApp;
  let clock: SettableClock;
  let keys: { publishableKey: string; secretKey: string };

  beforeAll(async () => {
    clock = frozenClock();
    gh = await startLimitsApp('sqlite', { clock, listen: true, rateLimits: ROOMY_ADDRESS });
  });
  afterAll(() => gh?.close());
  beforeEach(async () => {
    const p = await gh.createProject(`r${Math.random().toString(36).slice(2, 10)}`);
    keys = { publishableKey: p.publishableKey, secretKey: p.secretKey };
    clock.ms += 10 * HOUR;
  });

  async function malformedEvents(requestId: string): Promise<number> {
    await gh.deps.events.flush();
    const rows = await gh.deps.storage.db.selectFrom('security_events').select('type').where('request_id', '=', requestId).where('type', '=', 'malformed_request').execute();
    return rows.length;
  }

  it('over the subject limit: 429 with invalid JSON, no parse, and no wait for a body that never comes', async () => {
    const put = await gh.app.inject({ method: 'PUT', url: '/admin/v1/limits/policy', headers: { apikey: keys.secretKey }, payload: { data_write: { tiers: { admin: [{ limit: 1, windowMs: 60_000 }] } } } });
    expect(put.statusCode, put.body).toBe(200);
    const { url } = PROBES.dataWrite;
    const headers = { apikey: keys.secretKey, 'content-type': 'application/json' };
    expect((await gh.app.inject({ method: 'POST', url, headers, payload: '{}' })).statusCode).toBe(200);
    const hits = gh.hits.dataWrite;

    const refused = await gh.app.inject({ method: 'POST', url, headers, payload: INVALID_JSON });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('rate_limit_exceeded');
    expect(await malformedEvents(refused.headers['x-request-id'] as string)).toBe(0);

    const hanging = await halfSentBody(gh.url, url, { apikey: keys.secretKey });
    expect(hanging.status).toBe(429);
    expect(gh.hits.dataWrite).toBe(hits);
  });

  it('a key without the table\'s scope: 403 with invalid JSON, no parse, no wait for the body', async () => {
    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: keys.secretKey }, payload: { kind: 'secret', scopes: ['data:other:write'] } });
    expect(created.statusCode, created.body).toBe(201);
    const narrow = created.json().key as string;
    const refused = await gh.app.inject({ method: 'POST', url: '/rest/v1/notes', headers: { apikey: narrow, 'content-type': 'application/json' }, payload: INVALID_JSON });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: '42501', error: 'insufficient_scope' });
    expect(await malformedEvents(refused.headers['x-request-id'] as string)).toBe(0);

    const hanging = await halfSentBody(gh.url, '/rest/v1/notes', { apikey: narrow });
    expect(hanging.status).toBe(403);
  });

  it('a bad key or a bad user token: 401 with invalid JSON, no parse, no wait for the body', async () => {
    for (const headers of <Array<Record<string, string>>>[
      { apikey: 'sk_dev_0000000000000000000000000000000000' },
      { apikey: keys.publishableKey, authorization: 'Bearer not.a.jwt' },
    ]) {
      const refused = await gh.app.inject({ method: 'POST', url: '/llm/openai/v1/chat/completions', headers: { ...headers, 'content-type': 'application/json' }, payload: INVALID_JSON });
      expect(refused.statusCode, JSON.stringify(headers)).toBe(401);
      expect(await malformedEvents(refused.headers['x-request-id'] as string)).toBe(0);
      const hanging = await halfSentBody(gh.url, '/llm/openai/v1/chat/completions', headers);
      expect(hanging.status, JSON.stringify(headers)).toBe(401);
    }
  });

  it('the honest path: a caller with room and scope still has its body parsed (invalid JSON is 400)', async () => {
    const res = await gh.app.inject({ method: 'POST', url: PROBES.dataWrite.url, headers: { apikey: keys.secretKey, 'content-type': 'application/json' }, payload: INVALID_JSON });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
    expect(await malformedEvents(res.headers['x-request-id'] as string)).toBe(1);
  });
});

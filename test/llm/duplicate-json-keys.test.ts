import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { useLlmTest, type LlmTest } from './setup.js';

// Rule: a JSON body that names one key twice in an object is refused (400
// json_duplicate_key) before anything reads it. The proxy forwards JSON byte
// for byte and checks ownership on JSON.parse's reading, which keeps the last
// of two keys; a provider keeping the first would act on whatever the first
// names. So `{"assistant_id":"<alice's>","assistant_id":"<bob's>"}` from Bob
// would pass the check on his own id and run Alice's assistant.

function post(t: LlmTest, user: TestUser, path: string, body: string): Promise<Response> {
  return fetch(`${t.gh.url}${path}`, {
    method: 'POST',
    headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
    body,
  });
}

describe.each(engines())('duplicate JSON keys are refused (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('assistant_id twice, the first naming another user\'s assistant: 400 json_duplicate_key, nothing upstream', async () => {
    const alices = await t.openai(t.alice).beta.assistants.create({ model: 'gpt-fake' });
    const bo = t.openai(t.bob);
    const bobs = await bo.beta.assistants.create({ model: 'gpt-fake' });
    const thread = await bo.beta.threads.create();
    t.fake.reset();
    const res = await post(t, t.bob, `/llm/openai/v1/threads/${thread.id}/runs`, `{"assistant_id":"${alices.id}","assistant_id":"${bobs.id}"}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'json_duplicate_key', type: 'invalid_request_error' } });
    expect(t.fake.requests).toHaveLength(0);
    // The honest request, through the SDK, still runs.
    const run = await bo.beta.threads.runs.create(thread.id, { assistant_id: bobs.id });
    expect(run.thread_id).toBe(thread.id);
  });

  it('file_id twice deep inside a message, the second spelled with an escape: 400, nothing upstream', async () => {
    const alices = await t.openai(t.alice).files.create({ file: await toFile(Buffer.from('alice'), 'a.txt'), purpose: 'user_data' });
    const bobs = await t.openai(t.bob).files.create({ file: await toFile(Buffer.from('bob'), 'b.txt'), purpose: 'user_data' });
    t.fake.reset();
    const part = `{"type":"file","file":{"file_id":"${alices.id}","file\\u005fid":"${bobs.id}"}}`;
    const res = await post(t, t.bob, '/llm/openai/v1/chat/completions', `{"model":"gpt-fake","messages":[{"role":"user","content":[${part}]}]}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('json_duplicate_key');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('duplicate keys on the Anthropic and Gemini surfaces are refused in their dialect', async () => {
    const anthropic = await post(t, t.bob, '/llm/anthropic/v1/messages', '{"model":"claude-fake","max_tokens":5,"max_tokens":6,"messages":[]}');
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const gemini = await post(t, t.bob, '/llm/gemini/v1beta/models/gemini-fake:generateContent', '{"contents":[],"contents":[]}');
    expect(gemini.status).toBe(400);
    expect(await gemini.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect(t.fake.requests).toHaveLength(0);
  });

  it('every JSON route refuses them, not only /llm: /auth (GoTrue shape), /rest (PostgREST shape), /admin', async () => {
    const signup = await t.gh.app.inject({
      method: 'POST', url: '/auth/v1/signup', headers: { apikey: t.gh.publishableKey, 'content-type': 'application/json' },
      payload: '{"email":"first@example.com","password":"correct horse battery","email":"second@example.com"}',
    });
    expect(signup.statusCode).toBe(400);
    expect(signup.json()).toMatchObject({ error_code: 'json_duplicate_key' });
    const rest = await t.gh.app.inject({
      method: 'POST', url: '/rest/v1/anything', headers: { apikey: t.gh.secretKey, 'content-type': 'application/json' },
      payload: '{"owner":"a","owner":"b"}',
    });
    expect(rest.statusCode).toBe(400);
    expect(rest.json()).toMatchObject({ code: 'PGRST102', error: 'json_duplicate_key' });
    const admin = await t.gh.app.inject({
      method: 'PUT', url: '/admin/v1/providers/openai', headers: { apikey: t.gh.secretKey, 'content-type': 'application/json' },
      payload: '{"api_key":"sk-one","api_key":"sk-two"}',
    });
    expect(admin.statusCode).toBe(400);
    expect(admin.json()).toMatchObject({ error: 'json_duplicate_key' });
  });
});

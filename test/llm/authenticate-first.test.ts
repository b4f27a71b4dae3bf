import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { useLlmTest, type LlmTest } from './setup.js';

// Rule: on /llm, credentials are checked before anything else can answer. A
// caller without a valid key (or, with a publishable key, without a valid user
// token) hears 401 and nothing else: no 404 for an unknown provider, no 403
// for a closed endpoint, no 415 for a wrong Content-Type, and no security
// event but the rejection of its credentials. Otherwise a revoked or forged
// token could map which providers and endpoints a project runs.

/** Requests that, once authenticated, are refused by the proxy's own stages. */
const REFUSALS = [
  { name: 'unknown provider (404)', status: 404, code: 'not_found', method: 'POST', path: '/llm/nope/v1/chat/completions', type: 'application/json' },
  { name: 'account endpoint (403)', status: 403, code: 'llm_endpoint_not_allowed', method: 'GET', path: '/llm/openai/v1/organization/users' },
  { name: 'endpoint not on the allowlist (403)', status: 403, code: 'llm_endpoint_not_allowed', method: 'POST', path: '/llm/openai/v1/fine_tuning/jobs', type: 'application/json' },
  { name: 'JSON endpoint sent text/plain (415)', status: 415, code: 'unsupported_media_type', method: 'POST', path: '/llm/openai/v1/chat/completions', type: 'text/plain' },
] as const;

const BODY = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });

/** Credentials that must be refused, each with the code it earns and the only event it may leave. */
function badCredentials(t: LlmTest): Array<{ name: string; headers: Record<string, string>; code: string; event: string | null }> {
  const [head, payload] = t.alice.accessToken.split('.');
  return [
    { name: 'no key', headers: {}, code: 'missing_api_key', event: 'api_key_rejected' },
    { name: 'no key, a valid user token', headers: { authorization: `Bearer ${t.alice.accessToken}` }, code: 'missing_api_key', event: 'api_key_rejected' },
    { name: 'an unknown key', headers: { apikey: 'pk_dev_0000000000000000000000000000000000' }, code: 'invalid_api_key', event: 'api_key_rejected' },
    { name: 'publishable key without a user token', headers: { apikey: t.gh.publishableKey }, code: 'user_token_required', event: null },
    { name: 'publishable key with a key as bearer', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.gh.publishableKey}` }, code: 'user_token_required', event: null },
    { name: 'publishable key with a garbage token', headers: { apikey: t.gh.publishableKey, authorization: 'Bearer not.a.jwt' }, code: 'invalid_token', event: 'token_rejected' },
    { name: 'publishable key with a forged signature', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${head}.${payload}.AAAA` }, code: 'invalid_token', event: 'token_rejected' },
  ];
}

async function eventsOf(t: LlmTest, requestId: string): Promise<string[]> {
  await t.gh.deps.events.flush();
  const rows = await t.gh.deps.storage.db.selectFrom('security_events').select('type').where('request_id', '=', requestId).execute();
  return rows.map((r) => r.type);
}

describe.each(engines())('/llm authenticates before it answers anything else (%s)', (engine) => {
  const t = useLlmTest(engine);

  for (const refusal of REFUSALS) {
    it(`${refusal.name}: every failed credential is 401, nothing else, and leaves only its own rejection`, async () => {
      for (const bad of badCredentials(t)) {
        const res = await fetch(`${t.gh.url}${refusal.path}`, {
          method: refusal.method,
          headers: { ...bad.headers, ...('type' in refusal ? { 'content-type': refusal.type } : {}) },
          ...(refusal.method === 'POST' ? { body: BODY } : {}),
        });
        expect(res.status, bad.name).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code, bad.name).toBe(bad.code);
        const events = await eventsOf(t, res.headers.get('x-request-id')!);
        expect(events, bad.name).toEqual(bad.event ? [bad.event] : []);
      }
      expect(t.fake.requests).toHaveLength(0);
    });

    it(`${refusal.name}: an authenticated user gets the real answer`, async () => {
      const res = await fetch(`${t.gh.url}${refusal.path}`, {
        method: refusal.method,
        headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, ...('type' in refusal ? { 'content-type': refusal.type } : {}) },
        ...(refusal.method === 'POST' ? { body: BODY } : {}),
      });
      expect(res.status).toBe(refusal.status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(refusal.code);
      expect(t.fake.requests).toHaveLength(0);
    });
  }

  it('the honest path: a signed-in user chats through the openai SDK', async () => {
    const answer = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(t.fake.requests).toHaveLength(1);
  });

  it('the openai SDK with a bad token gets AuthenticationError (401), even for a provider that does not exist', async () => {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${t.gh.url}/llm/nope/v1`, apiKey: 'not.a.jwt', defaultHeaders: { apikey: t.gh.publishableKey }, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(t.fake.requests).toHaveLength(0);
  });
});

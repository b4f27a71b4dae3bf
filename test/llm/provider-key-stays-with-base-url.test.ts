// A provider's write-only key is only ever sent to the host it was given for: whoever may change
// base_url (an admin user, a key with admin:providers, the CLI) cannot redirect it (issue 11, item 5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliOn, useSeededDatabase } from '../harness/cli.js';
import { engines } from '../harness/engines.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { createTestUser } from '../harness/users.js';
import { useLlmTest } from './setup.js';

describe.each(engines())('provider key follows base_url (%s)', (engine) => {
  const t = useLlmTest(engine);
  // The attacker's host: a second fake upstream that records what it receives.
  let evil: FakeLlm;
  beforeAll(async () => { evil = await startFakeLlm(); });
  afterAll(async () => { await evil?.close(); });

  const put = (headers: Record<string, string>, name: string, payload: object) =>
    t.gh.app.inject({ method: 'PUT', url: `/admin/v1/providers/${name}`, headers, payload });
  const chat = () => t.openai(t.alice).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  const restoreOpenAi = async () => {
    const res = await t.admin('PUT', '/admin/v1/providers/openai', { base_url: `${t.fake.url}/openai`, api_key: FAKE_KEYS.openai });
    expect(res.status).toBe(200);
  };

  it.each([
    ['an admin user', async () => ({ apikey: t.gh.publishableKey, authorization: `Bearer ${(await createTestUser(t.gh, { admin: true })).accessToken}` })],
    ['a key scoped to admin:providers', async () => {
      const res = await t.gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: t.gh.secretKey }, payload: { kind: 'secret', scopes: ['admin:providers'] } });
      return { apikey: res.json().key as string };
    }],
  ])('%s changing base_url drops the stored key: the new host never receives it', async (_who, headersOf) => {
    evil.reset();
    const headers = await headersOf();
    const res = await put(headers, 'openai', { base_url: `${evil.url}/openai` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ base_url: `${evil.url}/openai`, has_key: false, key_last_four: null });
    await chat().catch(() => undefined); // with no key the upstream may refuse: what matters is what it received
    expect(JSON.stringify(evil.requests.map((r) => r.headers))).not.toContain(FAKE_KEYS.openai);
    expect(t.fake.requests).toHaveLength(0);
    const audit = await t.gh.deps.storage.db.selectFrom('audit_log').selectAll().where('action', '=', 'llm_provider.put').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ key_changed: false, has_key: false });
    await restoreOpenAi();
  });

  it('a new base_url with a key in the same request uses that key there', async () => {
    evil.reset();
    const res = await t.admin('PUT', '/admin/v1/providers/openai', { base_url: `${evil.url}/openai`, api_key: 'sk-new-host-key-000111' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ has_key: true, key_last_four: '0111' });
    await chat().catch(() => undefined); // the fake knows only its own keys and answers 401: it is the header that counts
    expect(evil.requests[0]!.headers.authorization).toBe('Bearer sk-new-host-key-000111');
    await restoreOpenAi();
  });

  it('other changes, and the same base_url written differently, keep the key', async () => {
    for (const payload of [{ enabled: true }, { endpoints_remove: ['POST /v1/images/generations'] }, { base_url: `${t.fake.url}/openai/` }]) {
      const res = await t.admin('PUT', '/admin/v1/providers/openai', payload);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ has_key: true, key_last_four: FAKE_KEYS.openai.slice(-4) });
    }
    await chat();
    expect(t.fake.requests[0]!.headers.authorization).toBe(`Bearer ${FAKE_KEYS.openai}`);
    await restoreOpenAi();
  });
});

describe.each(engines())('gatehouse providers set --base-url (%s)', (engine) => {
  const db = useSeededDatabase(engine, 'shop');
  const KEY = 'sk-cli-provider-key-9876543210';

  it('a new --base-url drops the stored key unless --key-stdin comes with it', async () => {
    expect((await runCliOn(db, ['providers', 'set', 'groq', '-p', 'shop', '--base-url', 'https://api.groq.com/openai', '--key-stdin'], { stdin: `${KEY}\n` })).code).toBe(0);
    const kept = await runCliOn(db, ['--json', 'providers', 'set', 'groq', '-p', 'shop', '--base-url', 'https://api.groq.com/openai/', '--disable']);
    expect(JSON.parse(kept.out)).toMatchObject({ has_key: true, key_last_four: '3210' });
    const moved = await runCliOn(db, ['--json', 'providers', 'set', 'groq', '-p', 'shop', '--base-url', 'https://evil.example/openai']);
    expect(moved.code, moved.err).toBe(0);
    expect(JSON.parse(moved.out)).toMatchObject({ base_url: 'https://evil.example/openai', has_key: false });
    const withKey = await runCliOn(db, ['--json', 'providers', 'set', 'groq', '-p', 'shop', '--base-url', 'https://api.groq.com/openai', '--key-stdin'], { stdin: `${KEY}\n` });
    expect(JSON.parse(withKey.out)).toMatchObject({ has_key: true, key_last_four: '3210' });
    expect(moved.out + kept.out + withKey.out).not.toContain(KEY);
  });
});

import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { FAKE_KEYS } from '../harness/fake-llm/index.js';
import { useLlmTest } from './setup.js';

describe.each(engines())('LLM admin routes (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('provider keys go in and never come out, not even in the audit log', async () => {
    const list = await t.admin('GET', '/admin/v1/providers');
    expect(list.status).toBe(200);
    expect(list.body.providers.map((p: { name: string }) => p.name).sort()).toEqual(['anthropic', 'gemini', 'openai']);
    const one = await t.admin('GET', '/admin/v1/providers/openai');
    expect(one.body).toMatchObject({ has_key: true, key_last_four: FAKE_KEYS.openai.slice(-4) });
    expect(one.body.endpoints).toContain('POST /v1/chat/completions usage');
    const everything = JSON.stringify([list.body, one.body, await t.gh.deps.storage.db.selectFrom('audit_log').selectAll().execute()]);
    for (const key of Object.values(FAKE_KEYS)) expect(everything).not.toContain(key);
  });

  it('only a secret key (or admin user) may manage providers; a refused change changes nothing', async () => {
    const res = await t.gh.app.inject({ method: 'PUT', url: '/admin/v1/providers/evil', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}` }, payload: { base_url: 'https://evil.example', api_key: 'sk-evil-000000' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'secret_key_required' });
    expect((await t.admin('GET', '/admin/v1/providers/evil')).status).toBe(404);
  });

  it('a custom OpenAI-compatible provider works end to end and can be narrowed', async () => {
    const put = await t.admin('PUT', '/admin/v1/providers/local', { base_url: `${t.fake.url}/openai`, api_key: FAKE_KEYS.openai, endpoints_remove: ['POST /v1/images/generations'] });
    expect(put.status).toBe(200);
    t.fake.reset();
    const chat = await t.openai(t.alice).withOptions({ baseURL: `${t.gh.url}/llm/local/v1` }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(chat.object).toBe('chat.completion');
    await expect(t.openai(t.alice).withOptions({ baseURL: `${t.gh.url}/llm/local/v1` }).images.generate({ prompt: 'x' })).rejects.toMatchObject({ status: 403 });
    expect(t.fake.requests).toHaveLength(1);
    const bad = await t.admin('PUT', '/admin/v1/providers/local', { endpoints_add: ['GET /v1/organization/users'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
  });

  it('quotas and the usage report', async () => {
    expect((await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 0, tokens_per_month: null })).body).toEqual({ tokens_per_day: 0, tokens_per_month: null });
    expect((await t.admin('GET', '/admin/v1/llm/quotas')).body).toEqual({ tokens_per_day: 0, tokens_per_month: null });
    await expect(t.openai(t.alice).chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({ status: 429 });
    await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: null, tokens_per_month: null });
    await t.openai(t.bob).embeddings.create({ model: 'emb', input: 'x' });
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = await t.admin('GET', `/admin/v1/llm/usage?from=${from}&to=${to}&user_id=${t.bob.id}`);
    expect(report.status).toBe(200);
    expect(report.body.usage).toContainEqual(expect.objectContaining({ user_id: t.bob.id, provider: 'openai', model: 'emb-fake', total_tokens: 4 }));
  });
});

import { describe, expect, it } from 'vitest';
import { toFile } from '@anthropic-ai/sdk';
import { engines } from '../harness/engines.js';
import { FAKE_KEYS } from '../harness/fake-llm/index.js';
import { useLlmTest } from './setup.js';

describe.each(engines())('LLM proxy with the Anthropic SDK and Gemini wire format (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('messages: the pk in x-api-key and the JWT never reach Anthropic; the provider key does', async () => {
    const msg = await t.anthropic(t.alice).messages.create({ model: 'claude-fake', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from the fake.' });
    const sent = t.fake.requests[0]!;
    expect(sent.url).toBe('/anthropic/v1/messages');
    expect(sent.headers['x-api-key']).toBe(FAKE_KEYS.anthropic);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBeDefined();
  });

  it('messages stream through and their usage is recorded per user and model', async () => {
    const counts = async () => {
      await t.gh.deps.llm.flush();
      const rows = await t.gh.deps.storage.db.selectFrom('llm_usage').selectAll().where('user_id', '=', t.alice.id).where('provider', '=', 'anthropic').where('model', '=', 'claude-fake').execute();
      return rows.reduce((sum, r) => ({ requests: sum.requests + Number(r.requests), input: sum.input + Number(r.input_tokens), output: sum.output + Number(r.output_tokens) }), { requests: 0, input: 0, output: 0 });
    };
    const before = await counts();
    const stream = t.anthropic(t.alice).messages.stream({ model: 'claude-fake', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalMessage();
    expect(final.usage.output_tokens).toBe(6);
    const after = await counts();
    // input from message_start, output from the last message_delta
    expect({ requests: after.requests - before.requests, input: after.input - before.input, output: after.output - before.output }).toEqual({ requests: 1, input: 12, output: 6 });
  });

  it('files: bob gets 404 on alice\'s file and sees only his own in the list', async () => {
    const a = await t.anthropic(t.alice).beta.files.upload({ file: await toFile(Buffer.from('alice doc'), 'a.txt', { type: 'text/plain' }) });
    const b = await t.anthropic(t.bob).beta.files.upload({ file: await toFile(Buffer.from('bob doc'), 'b.txt', { type: 'text/plain' }) });
    t.fake.reset();
    await expect(t.anthropic(t.bob).beta.files.retrieveMetadata(a.id)).rejects.toMatchObject({ status: 404 });
    await expect(t.anthropic(t.bob).beta.files.delete(a.id)).rejects.toMatchObject({ status: 404 });
    // Referenced from a message body.
    await expect(t.anthropic(t.bob).beta.messages.create({
      model: 'claude-fake', max_tokens: 10, betas: ['files-api-2025-04-14'],
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: a.id } }] }],
    })).rejects.toMatchObject({ status: 404, error: { type: 'error', error: { type: 'not_found_error' } } });
    expect(t.fake.requests).toHaveLength(0);
    const list = await t.anthropic(t.bob).beta.files.list();
    expect(list.data.map((f) => f.id)).toEqual([b.id]);
  });

  it('an endpoint outside the allowlist is 403 in the Anthropic shape', async () => {
    const res = await fetch(`${t.gh.url}/llm/anthropic/v1/organizations/api_keys`, { headers: { 'x-api-key': t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}` } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(t.fake.requests).toHaveLength(0);
  });

  it('gemini: generateContent and an SSE stream pass with x-goog-api-key set server-side', async () => {
    const headers = { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] });
    const res = await fetch(`${t.gh.url}/llm/gemini/v1beta/models/gemini-fake:generateContent?key=client-supplied`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
    expect(t.fake.requests[0]!.headers['x-goog-api-key']).toBe(FAKE_KEYS.gemini);
    expect(t.fake.requests[0]!.url).toBe('/gemini/v1beta/models/gemini-fake:generateContent');
    const stream = await fetch(`${t.gh.url}/llm/gemini/v1beta/models/gemini-fake:streamGenerateContent?alt=sse`, { method: 'POST', headers, body });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect((await stream.text()).match(/^data: /gm)).toHaveLength(2);
    const denied = await fetch(`${t.gh.url}/llm/gemini/v1beta/tunedModels`, { headers });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    expect(t.fake.requests).toHaveLength(2);
  });
});

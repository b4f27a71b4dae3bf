import { describe, expect, it } from 'vitest';
import { toFile } from 'openai';
import { engines } from '../harness/engines.js';
import { FAKE_KEYS } from '../harness/fake-llm/index.js';
import { useLlmTest } from './setup.js';

describe.each(engines())('LLM proxy with the OpenAI SDK (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('chat completion goes upstream with the server-side key and none of the caller credentials', async () => {
    const res = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).toBe('Hello from the fake.');
    expect(t.fake.requests).toHaveLength(1);
    const sent = t.fake.requests[0]!;
    expect(sent.url).toBe('/openai/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${FAKE_KEYS.openai}`);
    expect(sent.headers.apikey).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain(t.alice.accessToken);
    expect(JSON.stringify(sent.headers)).not.toContain(t.gh.publishableKey);
    expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-stainless') || h === 'cookie' || h === 'origin' || h.startsWith('x-forwarded'))).toEqual([]);
  });

  it('streams chat chunk by chunk and asks for usage in the final chunk', async () => {
    const stream = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const words: string[] = [];
    let usage: unknown = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) words.push(chunk.choices[0].delta.content);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(words.join('')).toBe('word0 word1 word2 ');
    expect(usage).toMatchObject({ total_tokens: 15 });
    expect(JSON.parse(t.fake.requests[0]!.body.toString()).stream_options).toEqual({ include_usage: true });
  });

  // Issue 18: the usage scanner reads a copy of each chunk; the bytes go to the client as they come.
  it.each([
    ['a whole first event', 'stallBody' as const],
    ['half an event', 'stallMidEvent' as const],
  ])('a stream\'s first bytes reach the client while the provider still holds back the rest (%s)', async (_what, mode) => {
    t.fake.mode[mode] = true;
    const aborter = new AbortController();
    try {
      const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, {
        method: 'POST', signal: aborter.signal,
        headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      // The provider has sent this much and then nothing: it can only arrive if nothing holds it back.
      const expected = mode === 'stallBody' ? '"role":"assistant"' : 'data: {"id":';
      while (!text.includes(expected)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      expect(text).toContain(expected);
      expect(text).not.toContain('word0');
    } finally {
      aborter.abort();
      t.fake.mode[mode] = false;
    }
    await t.fake.waitForAborted(1);
  });

  it('files: upload passes byte for byte, list shows only own files, others get 404', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 13, 10, 45, 45, 0x89, 0x50]);
    const file = await t.openai(t.alice).files.create({ file: await toFile(bytes, 'data.bin'), purpose: 'assistants' });
    expect(file.id).toMatch(/^file-/);
    const upload = t.fake.requests.find((r) => r.url === '/openai/v1/files')!;
    expect(upload.body.includes(bytes)).toBe(true);
    const bobFile = await t.openai(t.bob).files.create({ file: await toFile(Buffer.from('bob'), 'b.txt'), purpose: 'assistants' });

    const aliceList = await t.openai(t.alice).files.list();
    expect(aliceList.data.map((f) => f.id)).toEqual([file.id]);
    const bobList = await t.openai(t.bob).files.list();
    expect(bobList.data.map((f) => f.id)).toEqual([bobFile.id]);

    t.fake.reset();
    await expect(t.openai(t.bob).files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(t.openai(t.bob).files.content(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(t.openai(t.bob).files.delete(file.id)).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);

    const content = await t.openai(t.alice).files.content(file.id);
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
    await t.openai(t.alice).files.delete(file.id);
    await expect(t.openai(t.alice).files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    const rows = await t.gh.deps.storage.db.selectFrom('llm_resources').select('resource_id').where('resource_id', '=', file.id).execute();
    expect(rows).toEqual([]);
  });

  it('threads, messages and runs belong to their creator, directly and nested', async () => {
    const ai = t.openai(t.alice);
    const assistant = await ai.beta.assistants.create({ model: 'gpt-fake' });
    const thread = await ai.beta.threads.create();
    const message = await ai.beta.threads.messages.create(thread.id, { role: 'user', content: 'hello' });
    const run = await ai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    expect((await ai.beta.threads.messages.list(thread.id)).data.map((m) => m.id)).toEqual([message.id]);

    const bo = t.openai(t.bob);
    t.fake.reset();
    await expect(bo.beta.threads.retrieve(thread.id)).rejects.toMatchObject({ status: 404 });
    await expect(bo.beta.threads.messages.list(thread.id)).rejects.toMatchObject({ status: 404 });
    await expect(bo.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })).rejects.toMatchObject({ status: 404 });
    await expect(bo.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).rejects.toMatchObject({ status: 404 });
    await expect(bo.beta.assistants.retrieve(assistant.id)).rejects.toMatchObject({ status: 404 });
    // Bob's own thread, but Alice's assistant referenced in the body.
    const bobThread = await bo.beta.threads.create();
    t.fake.reset();
    await expect(bo.beta.threads.runs.create(bobThread.id, { assistant_id: assistant.id })).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
  });

  it('vector stores: foreign store and foreign file ids in bodies answer 404 before upstream', async () => {
    const ai = t.openai(t.alice);
    const file = await ai.files.create({ file: await toFile(Buffer.from('doc'), 'doc.txt'), purpose: 'assistants' });
    const store = await ai.vectorStores.create({ name: 'mine', file_ids: [file.id] });
    const bo = t.openai(t.bob);
    t.fake.reset();
    await expect(bo.vectorStores.retrieve(store.id)).rejects.toMatchObject({ status: 404 });
    await expect(bo.vectorStores.create({ name: 'steal', file_ids: [file.id] })).rejects.toMatchObject({ status: 404 });
    await expect(bo.beta.assistants.create({ model: 'gpt-fake', tool_resources: { file_search: { vector_store_ids: [store.id] } } })).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
    expect((await bo.vectorStores.list()).data).toEqual([]);
    expect((await ai.vectorStores.list()).data.map((v) => v.id)).toEqual([store.id]);
  });

  it('responses: previous_response_id of another user is 404', async () => {
    const first = await t.openai(t.alice).responses.create({ model: 'gpt-fake', input: 'hi' });
    t.fake.reset();
    await expect(t.openai(t.bob).responses.create({ model: 'gpt-fake', input: 'x', previous_response_id: first.id })).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
    const next = await t.openai(t.alice).responses.create({ model: 'gpt-fake', input: 'more', previous_response_id: first.id });
    expect(next.id).toMatch(/^resp_/);
  });

  it('a streamed response is recorded as it passes: its id is the creator\'s only', async () => {
    const stream = await t.openai(t.alice).responses.create({ model: 'gpt-fake', input: 'hi', stream: true });
    let id = '';
    for await (const event of stream) if (event.type === 'response.created') id = event.response.id;
    expect(id).toMatch(/^resp_/);
    await t.gh.deps.llm.flush();
    expect((await t.openai(t.alice).responses.retrieve(id)).id).toBe(id);
    t.fake.reset();
    await expect(t.openai(t.bob).responses.retrieve(id)).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
  });

  it('the proxy route is in the OpenAPI document', async () => {
    const spec = (await t.gh.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths).some((p) => p.startsWith('/llm/'))).toBe(true);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/admin/v1/providers', '/admin/v1/llm/quotas']));
  });

  it('an administration endpoint is refused with 403 in the OpenAI shape and never reaches upstream', async () => {
    const res = await fetch(`${t.gh.url}/llm/openai/v1/organization/users`, { headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}` } });
    expect(res.status).toBe(403);
    const body = await res.json() as { error: { code: string; type: string } };
    expect(body.error.code).toBe('llm_endpoint_not_allowed');
    expect(t.fake.requests).toHaveLength(0);
    await expect(t.openai(t.alice).get('/organization/projects')).rejects.toMatchObject({ status: 403 });
    expect(t.fake.requests).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { FAKE_KEYS } from '../harness/fake-llm/index.js';
import type { EchoMode } from '../harness/fake-llm/echo.js';
import { useLlmTest, type LlmTest } from './setup.js';

// Issue 11 item 12: an upstream that sends back the credentials Gatehouse sent
// it (an error page echoing Authorization, a debug field, a stream) must never
// hand the provider key to the client: not in an error or success body, not in
// a stream (where it may be split across chunks), not in a header.

type Provider = keyof typeof FAKE_KEYS;
const CALLS: Record<Provider, { path: string; body: object; stream: { path: string; body: object }; download?: string }> = {
  openai: {
    path: '/v1/chat/completions', body: { model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] },
    stream: { path: '/v1/chat/completions', body: { model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true } },
    download: '/v1/files/file-x/content',
  },
  anthropic: {
    path: '/v1/messages', body: { model: 'claude-fake', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
    stream: { path: '/v1/messages', body: { model: 'claude-fake', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], stream: true } },
    download: '/v1/files/file-x/content',
  },
  gemini: {
    path: '/v1beta/models/gemini-fake:generateContent', body: { contents: [{ parts: [{ text: 'hi' }] }] },
    stream: { path: '/v1beta/models/gemini-fake:streamGenerateContent?alt=sse', body: { contents: [{ parts: [{ text: 'hi' }] }] } },
  },
};

/** Everything the client received: status line, every header, the whole body. */
async function received(res: Response): Promise<{ status: number; text: string; headers: string }> {
  return { status: res.status, text: await res.text(), headers: JSON.stringify([...res.headers.entries()]) };
}

function call(t: LlmTest, provider: Provider, mode: EchoMode): Promise<Response> {
  t.fake.mode = { echoCredentials: mode };
  const c = CALLS[provider];
  // Downloads go with the secret key: no file is on record, and the mask does not depend on the caller.
  if (mode === 'download') return fetch(`${t.gh.url}/llm/${provider}${c.download}`, { headers: { apikey: t.gh.secretKey } });
  const { path, body } = mode === 'sse' ? c.stream : c;
  return fetch(`${t.gh.url}/llm/${provider}${path}`, {
    method: 'POST',
    headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function expectNoKey(what: string, got: { text: string; headers: string }): void {
  for (const key of Object.values(FAKE_KEYS)) {
    expect(got.text.includes(key), `${what}: body`).toBe(false);
    expect(got.headers.includes(key), `${what}: headers`).toBe(false);
    // Not even the part of it a stream ended with.
    expect(got.text.includes(key.slice(0, 12)), `${what}: a prefix in the body`).toBe(false);
  }
}

describe.each(engines())('the provider key never leaves Gatehouse (%s)', (engine) => {
  const t = useLlmTest(engine);

  for (const provider of Object.keys(CALLS) as Provider[]) {
    for (const mode of ['error-json', 'error-text', 'json', 'sse', 'headers', 'download'] as EchoMode[]) {
      if (mode === 'download' && !CALLS[provider].download) continue;
      it(`${provider}: an upstream echoing its credentials (${mode}) shows the client a masked key`, async () => {
        const got = await received(await call(t, provider, mode));
        // The upstream did send the key back: the request reached it and the answer was relayed.
        expect(t.fake.requests).toHaveLength(1);
        expect(got.status).toBe(mode === 'error-json' ? 400 : mode === 'error-text' ? 403 : 200);
        expectNoKey(`${provider} ${mode}`, got);
        const mask = '*'.repeat(FAKE_KEYS[provider].length);
        if (mode === 'headers') {
          const headers = JSON.parse(got.headers) as Array<[string, string]>;
          expect(headers.find(([name]) => name === 'content-disposition')?.[1]).toBe(`attachment; filename="${provider === 'openai' ? 'Bearer ' : ''}${mask}"`);
        } else expect(got.text).toContain(mask);
      });
    }
  }

  it('with the OpenAI SDK: a streamed answer carrying the key split across chunks arrives masked', async () => {
    t.fake.mode = { echoCredentials: 'sse' };
    const stream = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? '');
    expect(parts).toEqual([`Bearer ${'*'.repeat(FAKE_KEYS.openai.length)}`, `Bearer ${'*'.repeat(FAKE_KEYS.openai.length)}`]);
  });

  it('with the OpenAI SDK: an error echoing Authorization raises an error without the key', async () => {
    t.fake.mode = { echoCredentials: 'error-json' };
    const error = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ status: 400 });
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(FAKE_KEYS.openai);
  });

  it('an honest answer passes byte for byte', async () => {
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, {
      method: 'POST', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    const text = await res.text();
    expect(text).toContain('word0 ');
    expect(text).not.toContain('*');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

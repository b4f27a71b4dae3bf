// LLM proxy metrics move when their event happens, through the proxy (openai SDK and raw fetch):
// tokens by provider and model, upstream exchange and first byte timed, streams open, and upstream
// errors by kind (connect, timeout, reset, aborted, provider 4xx/5xx). A project's own provider
// name and a caller's invented model name never become a label.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { engines } from '../harness/engines.js';
import { assertNoSecrets, startLlmTest, type LlmTest } from '../llm/setup.js';
import { delta, METRICS_TOKEN, scrape } from './scrape.js';

const ERRORS = 'gatehouse_llm_upstream_errors_total';
const TOKENS = 'gatehouse_llm_tokens_total';
const DURATION = 'gatehouse_http_request_duration_seconds_count';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(engines())('LLM proxy metrics (%s)', (engine) => {
  let t: LlmTest;
  const userHeaders = () => ({ apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' });
  const chat = (extra: object = {}) => JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const post = (provider = 'openai', body = chat(), signal?: AbortSignal) =>
    fetch(`${t.gh.url}/llm/${provider}/v1/chat/completions`, { method: 'POST', headers: userHeaders(), body, signal });
  const metric = async (name: string, labels: Record<string, string>) => (await scrape(t.gh.app)).value(name, labels);

  beforeAll(async () => {
    t = await startLlmTest(engine, { env: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN, GATEHOUSE_LLM_HEADERS_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => {
    assertNoSecrets(t);
    await t.close();
  });
  beforeEach(() => t.fake.reset());

  it('counts a completion\'s tokens by provider, model and direction, and times its exchange and first byte', async () => {
    let usage = { prompt_tokens: 0, completion_tokens: 0 };
    const d = await delta(t.gh.app, async () => {
      const answer = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });
      usage = answer.usage!;
    });
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(d(TOKENS, { provider: 'openai', model: 'gpt-fake', direction: 'input' })).toBe(usage.prompt_tokens);
    expect(d(TOKENS, { provider: 'openai', model: 'gpt-fake', direction: 'output' })).toBe(usage.completion_tokens);
    expect(d('gatehouse_llm_upstream_ttfb_seconds_count', { provider: 'openai' })).toBe(1);
    expect(d('gatehouse_llm_upstream_duration_seconds_count', { provider: 'openai', status_class: '2xx' })).toBe(1);
    expect(d(DURATION, { surface: 'llm', route: '/llm/*', method: 'POST', status_class: '2xx' })).toBe(1);
  });

  it('holds a stream in streams_open while it is relayed, and counts its tokens once it ends', async () => {
    t.fake.mode = { chunkDelayMs: 50, streamChunks: 4 };
    const before = await scrape(t.gh.app);
    const res = await post('openai', chat({ stream: true }));
    const reader = res.body!.getReader();
    await reader.read();
    expect(await metric('gatehouse_llm_streams_open', { provider: 'openai' })).toBe(before.value('gatehouse_llm_streams_open', { provider: 'openai' }) + 1);
    while (!(await reader.read()).done);
    await vi.waitFor(async () => expect(await metric('gatehouse_llm_streams_open', { provider: 'openai' })).toBe(before.value('gatehouse_llm_streams_open', { provider: 'openai' })));
    await vi.waitFor(async () => expect(await metric(TOKENS, { provider: 'openai', model: 'gpt-fake', direction: 'output' })).toBeGreaterThan(before.value(TOKENS, { provider: 'openai', model: 'gpt-fake', direction: 'output' })));
  });

  it('counts provider 5xx and 4xx answers, resets and header timeouts by kind', async () => {
    const d = await delta(t.gh.app, async () => {
      t.fake.mode = { failStatus: 503 };
      expect((await post()).status).toBe(502);
      t.fake.mode = { failStatus: 400 };
      expect((await post()).status).toBe(400);
      t.fake.mode = { reset: true };
      expect((await post()).status).toBe(502);
      t.fake.mode = { stallHeaders: true };
      expect((await post()).status).toBe(504);
      t.fake.mode = {};
    });
    expect(d(ERRORS, { provider: 'openai', kind: 'status_5xx' })).toBe(1);
    expect(d(ERRORS, { provider: 'openai', kind: 'status_4xx' })).toBe(1);
    expect(d(ERRORS, { provider: 'openai', kind: 'reset' })).toBe(1);
    expect(d(ERRORS, { provider: 'openai', kind: 'timeout' })).toBe(1);
    expect(d('gatehouse_llm_upstream_duration_seconds_count', { provider: 'openai', status_class: 'error' })).toBe(2);
  });

  it('counts a client that leaves mid-stream as aborted, and closes its stream', async () => {
    t.fake.mode = { chunkDelayMs: 100, streamChunks: 100 };
    const before = await scrape(t.gh.app);
    const abort = new AbortController();
    const res = await post('openai', chat({ stream: true }), abort.signal);
    await res.body!.getReader().read();
    abort.abort();
    await t.fake.waitForAborted(1, 5000);
    await vi.waitFor(async () => expect(await metric(ERRORS, { provider: 'openai', kind: 'aborted' })).toBe(before.value(ERRORS, { provider: 'openai', kind: 'aborted' }) + 1));
    await vi.waitFor(async () => expect(await metric('gatehouse_llm_streams_open', { provider: 'openai' })).toBe(before.value('gatehouse_llm_streams_open', { provider: 'openai' })));
  });

  it('names a project\'s own provider custom, counts a provider it cannot reach as connect, and caps model names', async () => {
    const name = 'acme-distinctive-llm';
    const port = await closedPort();
    expect((await t.admin('PUT', `/admin/v1/providers/${name}`, { base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-custom-0123456789' })).status).toBe(200);
    const weird = 'model with spaces <distinctive>';
    const d = await delta(t.gh.app, async () => {
      expect((await post(name)).status).toBe(502);
      expect((await post('openai', chat({ model: weird }))).status).toBe(200);
    });
    expect(d(ERRORS, { provider: 'custom', kind: 'connect' })).toBe(1);
    expect(d(TOKENS, { provider: 'openai', model: 'other', direction: 'input' })).toBeGreaterThan(0);
    const text = (await scrape(t.gh.app)).text;
    for (const raw of [name, weird, 'distinctive', t.alice.id, t.gh.project.id]) expect(text).not.toContain(raw);
  });
});

// What a stop must not lose or leave hanging, on a real `gatehouse start` process: at the
// deadline an open LLM stream is *ended* (the SDK reports why), what the background writer still
// holds (usage, request log, security events) is in the database when the process comes back, and
// cutting at the deadline is a normal stop (exit 0). SIGINT drains like SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';
import { call } from './notes.js';

describe('shutdown deadline and buffers', () => {
  let dataDir: string;
  let fake: FakeLlm;
  const running: GatehouseProcess[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gh-faults-deadline-'));
    fake = await startFakeLlm();
  });
  afterEach(async () => {
    for (const gh of running.splice(0)) {
      if (gh.alive()) {
        gh.kill('SIGKILL');
        await gh.exited;
      }
    }
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<GatehouseProcess> {
    const gh = await spawnGatehouse({ dataDir, env });
    running.push(gh);
    return gh;
  }

  const openai = (gh: GatehouseProcess, key: string) =>
    new OpenAI({ baseURL: `${gh.url}/llm/openai/v1`, apiKey: key, defaultHeaders: { apikey: key }, maxRetries: 0 });

  it('the default deadline is 30 s', () => {
    expect(loadConfig({ env: {} }).shutdownTimeoutMs).toBe(30_000);
  });

  it('SIGTERM with a stream still open at the deadline: the SDK sees the stream end with the shutdown error, buffered usage, request log and security events survive the restart, exit 0', async () => {
    const deadlineMs = 1_500;
    const gh = await start({ GATEHOUSE_SHUTDOWN_TIMEOUT_MS: String(deadlineMs) });
    const key = gh.secretKey!;
    const publishable = /publishable \(client side\): (\S+)/.exec(gh.output())![1]!;
    expect((await call(gh.url, key, 'PUT', '/admin/v1/providers/openai', { base_url: `${fake.url}/openai`, api_key: FAKE_KEYS.openai })).status).toBe(200);
    expect((await call(gh.url, key, 'PUT', '/admin/v1/llm/request-log', { enabled: true, retention_days: 7 })).status).toBe(200);

    // The provider sends its first event, then nothing: only the deadline can end this stream.
    fake.mode.stallBody = true;
    const model = `m-shutdown-${Date.now()}`;
    const stream = await openai(gh, key).chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);

    // A security event recorded just before the signal, still in the background writer's buffer
    // (it stores every 500 ms, or at close).
    const refused = await call(gh.url, publishable, 'GET', '/admin/v1/project');
    expect(refused.status).toBe(403);

    const signalledAt = performance.now();
    gh.kill('SIGTERM');
    // The SDK raises the last event as an API error: the caller knows the answer is incomplete.
    const ending = await iterator.next().then(() => null, (error: unknown) => error);
    const endedAfterMs = performance.now() - signalledAt;
    expect(ending).toBeInstanceOf(OpenAI.APIError);
    expect((ending as InstanceType<typeof OpenAI.APIError>).message).toContain('shut down before the stream ended');
    expect(endedAfterMs).toBeGreaterThanOrEqual(deadlineMs - 50);
    expect(endedAfterMs).toBeLessThan(deadlineMs + 1_000);

    const { code, signal } = await gh.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(deadlineMs + 3_000);
    // The upstream request was aborted, not left running.
    await fake.waitForAborted(1, 2_000);
    const logs = gh.logs();
    expect(logs.find((l) => l.msg === 'shutdown deadline reached: closing the connections still open')).toMatchObject({ streams_ended: 1, connections_cut: 0 });
    expect(logs.find((l) => l.msg === 'stopped')).toMatchObject({ outcome: 'cut' });
    expect(gh.output()).not.toContain(FAKE_KEYS.openai);

    // Back up on the same data: every buffered row was stored before the exit.
    const again = await start();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const usage = await call(again.url, key, 'GET', `/admin/v1/llm/usage?from=${from}&to=${to}`);
    expect(usage.status).toBe(200);
    // The stream was cut before its usage event: its tokens are estimated from the bytes that passed.
    // The stream was cut before its usage event: its tokens are estimated from the bytes that passed
    // (with no model named, as usage/ records an estimate).
    expect(usage.body.usage).toEqual([expect.objectContaining({ provider: 'openai', requests: 1, input_tokens: 0 })]);
    expect(usage.body.usage[0].output_tokens).toBeGreaterThan(0);
    const entries = await call(again.url, key, 'GET', '/admin/v1/llm/request-log/entries');
    expect(entries.status).toBe(200);
    expect(entries.body.entries).toEqual([expect.objectContaining({ path: '/v1/chat/completions', model, status: 200 })]);
    const events = await call(again.url, key, 'GET', '/admin/v1/security-events?type=secret_key_required');
    expect(events.status).toBe(200);
    expect(events.body.events).toHaveLength(1);
  }, 60_000);

  it('SIGINT drains like SIGTERM: new connections are refused, the open stream finishes whole, exit 0', async () => {
    const gh = await start({ GATEHOUSE_SHUTDOWN_TIMEOUT_MS: '10000' });
    const key = gh.secretKey!;
    expect((await call(gh.url, key, 'PUT', '/admin/v1/providers/openai', { base_url: `${fake.url}/openai`, api_key: FAKE_KEYS.openai })).status).toBe(200);
    fake.mode.chunkDelayMs = 150;
    fake.mode.streamChunks = 6;
    const stream = await openai(gh, key).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const words: string[] = [];
    const read = (async () => {
      for await (const chunk of stream) words.push(chunk.choices[0]?.delta.content ?? '');
    })();
    // The stream is open (its first event arrived) when the signal comes.
    await new Promise<void>((resolve) => {
      const check = () => (words.length > 0 ? resolve() : setTimeout(check, 10));
      check();
    });
    gh.kill('SIGINT');
    await gh.waitFor('"msg":"shutting down: draining requests"', 5_000);
    await expect(fetch(`${gh.url}/ready`)).rejects.toThrow();
    await read;
    expect(words.join('')).toBe('word0 word1 word2 word3 word4 word5 ');
    expect((await gh.exited).code).toBe(0);
    expect(gh.logs().find((l) => l.msg === 'stopped')).toMatchObject({ outcome: 'drained' });
  }, 60_000);
});

// A listening Gatehouse with openai / anthropic / gemini providers pointed at
// the fake upstream, two users (alice, bob), and SDK clients for each.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import OpenAI from 'openai';
import { startTestApp, type TestApp, type TestAppOptions } from '../harness/app.js';
import type { EngineName } from '../harness/engines.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { createTestUser, type TestUser } from '../harness/users.js';

export interface LlmTest {
  gh: TestApp;
  fake: FakeLlm;
  alice: TestUser;
  bob: TestUser;
  openai(user: TestUser): OpenAI;
  anthropic(user: TestUser): Anthropic;
  /** Admin call with the secret key. */
  admin(method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface LlmTestOptions extends TestAppOptions {
  /**
   * Settings only a config file holds (`llm.origins`, keyed by the fake's origin, known once it
   * listens): written to a temporary file passed as GATEHOUSE_CONFIG.
   */
  configFile?(fake: FakeLlm): unknown;
}

export async function startLlmTest(engine: EngineName, { configFile, ...options }: LlmTestOptions = {}): Promise<LlmTest> {
  const fake = await startFakeLlm();
  if (configFile) {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-llm-config-')), 'config.json');
    writeFileSync(file, JSON.stringify(configFile(fake)));
    options = { ...options, env: { ...options.env, GATEHOUSE_CONFIG: file } };
  }
  const gh = await startTestApp(engine, { listen: true, ...options });
  const admin = async (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await gh.app.inject({ method, url, headers: { apikey: gh.secretKey }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  };
  for (const [name, key] of Object.entries(FAKE_KEYS)) {
    const res = await admin('PUT', `/admin/v1/providers/${name}`, { base_url: `${fake.url}/${name}`, api_key: key });
    if (res.status !== 200) throw new Error(`provider ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const alice = await createTestUser(gh);
  const bob = await createTestUser(gh);
  // The LLM route class allows 10 requests a minute per user by default; these tests make more.
  for (const user of [alice, bob]) {
    const res = await admin('PUT', `/admin/v1/limits/overrides/user:${user.id}`, { llm: [{ limit: 100_000, windowMs: 60_000 }] });
    if (res.status !== 200) throw new Error(`rate-limit override: ${res.status} ${JSON.stringify(res.body)}`);
  }
  fake.reset();
  return {
    gh, fake, alice, bob, admin,
    openai: (user) => new OpenAI({ baseURL: `${gh.url}/llm/openai/v1`, apiKey: user.accessToken, defaultHeaders: { apikey: gh.publishableKey }, maxRetries: 0 }),
    // @anthropic-ai/sdk 1.x refuses apiKey + authToken together (and sends apiKey as a Bearer token),
    // so the publishable key rides in x-api-key through defaultHeaders.
    anthropic: (user) => new Anthropic({ baseURL: `${gh.url}/llm/anthropic`, authToken: user.accessToken, defaultHeaders: { 'x-api-key': gh.publishableKey }, maxRetries: 0 }),
    async close() {
      await gh.close();
      await fake.close();
    },
  };
}

/** A Gemini file uploaded by `user` through Gatehouse (resumable start, then one upload-and-finalize chunk): its id. */
export async function uploadGeminiFile(t: LlmTest, user: TestUser, bytes = 'hello'): Promise<string> {
  const auth = { apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}` };
  const start = await fetch(`${t.gh.url}/llm/gemini/upload/v1beta/files`, {
    method: 'POST',
    headers: { ...auth, 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': String(bytes.length), 'content-type': 'application/json' },
    body: JSON.stringify({ file: { display_name: 'a.txt' } }),
  });
  if (start.status !== 200) throw new Error(`gemini upload start: ${start.status}`);
  const done = await fetch(start.headers.get('x-goog-upload-url')!, {
    method: 'POST', headers: { ...auth, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: bytes,
  });
  if (done.status !== 200) throw new Error(`gemini upload finalize: ${done.status}`);
  return ((await done.json()) as { file: { name: string } }).file.name.slice('files/'.length);
}

/** Every log line and stored event must be free of provider keys and user tokens. */
export function assertNoSecrets(t: LlmTest, text: string = t.gh.logs.join('\n')): void {
  for (const secret of [...Object.values(FAKE_KEYS), t.alice.accessToken, t.bob.accessToken, t.gh.secretKey]) {
    if (text.includes(secret)) throw new Error(`a secret leaked: ${secret.slice(0, 8)}…`);
  }
}

/**
 * One Gatehouse + fake upstream for the enclosing describe block: started before its tests, logs
 * checked for secrets and closed after them, the fake's record reset before each test. The returned
 * object is filled in by beforeAll, so tests use it as they would the result of startLlmTest.
 */
export function useLlmTest(engine: EngineName, options: LlmTestOptions = {}): LlmTest {
  const t = {} as LlmTest;
  beforeAll(async () => {
    Object.assign(t, await startLlmTest(engine, options));
  });
  afterAll(async () => {
    if (!t.gh) return; // start-up failed: that error is the one to read
    assertNoSecrets(t);
    await t.close();
  });
  beforeEach(() => t.fake.reset());
  return t;
}

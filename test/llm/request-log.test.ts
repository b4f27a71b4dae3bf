// Opt-in LLM request logging (issue 5 §7): nothing is stored unless an admin turns it on for a
// project environment; then bodies are stored sealed, truncated at a cap, readable only by that
// environment's admins, and deleted after the retention period.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clockAt, type Clock } from '../../src/shared/clock.js';
import { startTestApp } from '../harness/app.js';
import { runCliOn, useSeededDatabase } from '../harness/cli.js';
import { engines } from '../harness/engines.js';
import { assertNoSecrets, startLlmTest, type LlmTest } from './setup.js';

const PROMPT = 'the-secret-prompt-7c1f9a';
const DAY_MS = 86_400_000;

describe.each(engines())('LLM request log (%s)', (engine) => {
  let t: LlmTest;
  // Real time plus a shift the retention test moves forward.
  let shiftMs = 0;
  const clock: Clock = clockAt(() => Date.now() + shiftMs);
  const db = () => t.gh.deps.storage.db;
  const rows = () => db().selectFrom('llm_request_log').selectAll().orderBy('id').execute();
  const entries = async (query = '') => {
    const res = await t.admin('GET', `/admin/v1/llm/request-log/entries${query}`);
    expect(res.status).toBe(200);
    return res.body as { entries: any[]; next_before: string | null };
  };
  /** Entries are stored after the response closes, off the request path: wait for them. */
  const waitForRows = (n: number) => vi.waitFor(async () => {
    await t.gh.deps.llm.flush();
    expect(await rows()).toHaveLength(n);
  }, { timeout: 5000, interval: 50 });
  const chat = (user = t.alice, content = PROMPT) =>
    t.openai(user).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    t = await startLlmTest(engine, { clock });
  });
  afterAll(async () => {
    assertNoSecrets(t);
    // Stored or not, no prompt or completion ever reaches the server's log.
    for (const text of [PROMPT, 'Hello from the fake', 'word1']) expect(t.gh.logs.join('\n')).not.toContain(text);
    await t.close();
  });
  beforeEach(() => t.fake.reset());

  it('is off by default: a chat stores nothing', async () => {
    expect((await t.admin('GET', '/admin/v1/llm/request-log')).body).toMatchObject({ enabled: false, max_body_bytes: 65536, updated_at: null });
    await chat();
    // Give a would-be write every chance to land before asserting there is none.
    await new Promise((r) => setTimeout(r, 100));
    await t.gh.deps.llm.flush();
    expect(await rows()).toEqual([]);
    expect((await entries()).entries).toEqual([]);
    const spec = (await t.gh.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/admin/v1/llm/request-log', '/admin/v1/llm/request-log/entries']));
  });

  it('settings are validated: retention 1..90 days, required when enabling, no unknown fields', async () => {
    for (const body of [
      { enabled: true },
      { enabled: true, retention_days: 0 },
      { enabled: true, retention_days: 91 },
      { enabled: true, retention_days: 7, max_body_bytes: -1 },
      { enabled: true, retention_days: 7, max_body_bytes: 10_000_000 },
      { enabled: true, retention_days: 7, log_headers: true },
      { retention_days: 7 },
    ]) {
      const res = await t.admin('PUT', '/admin/v1/llm/request-log', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('validation_failed');
    }
    expect((await t.admin('GET', '/admin/v1/llm/request-log')).body.enabled).toBe(false);
    const bad = await t.admin('GET', '/admin/v1/llm/request-log/entries?before=yesterday');
    expect(bad.status).toBe(400);
    expect((await t.admin('GET', '/admin/v1/llm/request-log/entries?limit=1000')).status).toBe(400);
  });

  it('on: a plain and a streamed chat are stored with bodies, usage and user; the stream still arrives chunk by chunk', async () => {
    const put = await t.admin('PUT', '/admin/v1/llm/request-log', { enabled: true, retention_days: 7 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ enabled: true, retention_days: 7, max_body_bytes: 65536, updated_by: expect.stringMatching(/^key:/) });

    const plain = await chat();
    expect(plain.choices[0]!.message.content).toBe('Hello from the fake.');

    t.fake.mode.chunkDelayMs = 150;
    const started = Date.now();
    const stream = await t.openai(t.bob).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: `${PROMPT}-stream` }], stream: true });
    const arrivals: number[] = [];
    const words: string[] = [];
    for await (const chunk of stream) {
      arrivals.push(Date.now() - started);
      if (chunk.choices[0]?.delta.content) words.push(chunk.choices[0].delta.content);
    }
    expect(words.join('')).toBe('word0 word1 word2 ');
    // Logging must not hold the stream back: the first chunk came long before the last.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);

    await waitForRows(2);
    const page = await entries();
    expect(page.entries).toHaveLength(2);
    const [streamed, first] = page.entries; // newest first
    expect(first).toMatchObject({
      provider: 'openai', method: 'POST', path: '/v1/chat/completions', user_id: t.alice.id, status: 200, model: 'gpt-fake',
      input_tokens: 10, output_tokens: 5, total_tokens: 15, truncated: false,
    });
    expect(first.duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(first.request_body)).toEqual({ model: 'gpt-fake', messages: [{ role: 'user', content: PROMPT }] });
    expect(JSON.parse(first.response_body).choices[0].message.content).toBe('Hello from the fake.');

    expect(streamed).toMatchObject({ user_id: t.bob.id, status: 200, total_tokens: 15, truncated: false, model: 'gpt-fake' });
    expect(JSON.parse(streamed.request_body).messages[0].content).toBe(`${PROMPT}-stream`);
    for (const word of ['word0', 'word1', 'word2', '[DONE]']) expect(streamed.response_body).toContain(word);
    // No header of the caller's request is stored anywhere in the entry.
    const text = JSON.stringify(page);
    for (const secret of [t.alice.accessToken, t.bob.accessToken, t.gh.publishableKey]) expect(text).not.toContain(secret);

    const bobs = await entries(`?user_id=${t.bob.id}`);
    expect(bobs.entries.map((e) => e.id)).toEqual([streamed.id]);
    const paged = await entries('?limit=1');
    expect(paged.entries.map((e) => e.id)).toEqual([streamed.id]);
    expect(paged.next_before).toBe(streamed.id);
    expect((await entries(`?limit=1&before=${paged.next_before}`)).entries.map((e) => e.id)).toEqual([first.id]);
  });

  it('bodies are sealed in the database and never logged', async () => {
    const stored = await rows();
    expect(stored.length).toBeGreaterThan(0);
    const raw = JSON.stringify(stored);
    expect(raw).not.toContain(PROMPT);
    expect(raw).not.toContain('Hello from the fake');
    expect(raw).not.toContain('word1');
    // A sealed body is bound to its row: moved to another entry it does not open.
    const [a, b] = stored;
    await db().updateTable('llm_request_log').set({ request_body: a!.request_body }).where('id', '=', b!.id).execute();
    const res = await t.admin('GET', '/admin/v1/llm/request-log/entries');
    expect(res.status).toBe(200);
    const moved = (res.body.entries as any[]).find((e) => e.id === b!.id);
    expect(moved).toMatchObject({ request_body: null, bodies_unreadable: true });
    expect((res.body.entries as any[]).find((e) => e.id === a!.id)).toMatchObject({ bodies_unreadable: false });
    expect(JSON.stringify(moved)).not.toContain(PROMPT);
    await db().updateTable('llm_request_log').set({ request_body: b!.request_body }).where('id', '=', b!.id).execute();
    expect(t.gh.logs.join('\n')).not.toContain(PROMPT);
    const audit = JSON.stringify(await db().selectFrom('audit_log').selectAll().execute());
    expect(audit).toContain('llm_request_log.put');
    expect(audit).toContain('llm_request_log.read');
    expect(audit).not.toContain(PROMPT);
  });

  it('another project environment\'s admin sees none of them; a user token or publishable key cannot reach the routes', async () => {
    const other = await t.gh.createProject('other');
    const theirs = await t.gh.app.inject({ method: 'GET', url: '/admin/v1/llm/request-log/entries', headers: { apikey: other.secretKey } });
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json().entries).toEqual([]);
    expect((await t.gh.app.inject({ method: 'GET', url: '/admin/v1/llm/request-log', headers: { apikey: other.secretKey } })).json().enabled).toBe(false);
    const purge = await t.gh.app.inject({ method: 'DELETE', url: '/admin/v1/llm/request-log/entries', headers: { apikey: other.secretKey } });
    expect(purge.json()).toEqual({ deleted: 0 });

    const asUser = { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}` };
    for (const [method, url] of [['GET', '/admin/v1/llm/request-log/entries'], ['GET', '/admin/v1/llm/request-log'], ['DELETE', '/admin/v1/llm/request-log/entries']] as const) {
      const res = await t.gh.app.inject({ method, url, headers: asUser });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('secret_key_required');
      expect(res.body).not.toContain(PROMPT);
      const guest = await t.gh.app.inject({ method, url, headers: { apikey: t.gh.publishableKey } });
      expect(guest.statusCode).toBe(403);
      const nobody = await t.gh.app.inject({ method, url });
      expect(nobody.statusCode).toBe(401);
    }
    const put = await t.gh.app.inject({ method: 'PUT', url: '/admin/v1/llm/request-log', headers: asUser, payload: { enabled: false } });
    expect(put.statusCode).toBe(403);
    // A secret key scoped to providers manages providers, not the log of users' prompts.
    const scoped = await t.gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: t.gh.secretKey }, payload: { kind: 'secret', scopes: ['admin:providers'] } });
    expect(scoped.statusCode).toBe(201);
    const narrow = await t.gh.app.inject({ method: 'GET', url: '/admin/v1/llm/request-log/entries', headers: { apikey: scoped.json().key } });
    expect(narrow.statusCode).toBe(403);
    expect(narrow.json().error).toBe('insufficient_scope');
    expect((await t.admin('GET', '/admin/v1/llm/request-log')).body.enabled).toBe(true);
    expect(await rows()).toHaveLength(2);
  });

  it('a caller leaving mid-stream is logged as 499 and still aborts the provider; a provider failure is logged as sent', async () => {
    await t.admin('DELETE', '/admin/v1/llm/request-log/entries');
    t.fake.mode = { chunkDelayMs: 100, streamChunks: 100 };
    const abort = new AbortController();
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fake', stream: true, messages: [{ role: 'user', content: PROMPT }] }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('data: ');
    abort.abort();
    await t.fake.waitForAborted(1, 5000);
    await waitForRows(1);

    t.fake.reset();
    t.fake.mode.failStatus = 500;
    await expect(chat()).rejects.toMatchObject({ status: 502 });
    await waitForRows(2);
    const [failed, left] = (await entries()).entries;
    expect(left).toMatchObject({ status: 499, user_id: t.alice.id, truncated: false });
    expect(left.response_body).toContain('chat.completion.chunk'); // what reached the caller before it left
    expect(failed).toMatchObject({ status: 502, input_tokens: null, total_tokens: null });
    expect(JSON.parse(failed.request_body).messages[0].content).toBe(PROMPT);
    expect(failed.response_body).toContain('error');
  });

  it('bodies longer than max_body_bytes are cut and flagged', async () => {
    await t.admin('DELETE', '/admin/v1/llm/request-log/entries');
    expect((await t.admin('PUT', '/admin/v1/llm/request-log', { enabled: true, retention_days: 7, max_body_bytes: 40 })).status).toBe(200);
    await chat(t.alice, `${PROMPT}-${'x'.repeat(500)}`);
    await waitForRows(1);
    const [entry] = (await entries()).entries;
    expect(entry.truncated).toBe(true);
    expect(Buffer.byteLength(entry.request_body)).toBe(40);
    expect(Buffer.byteLength(entry.response_body)).toBe(40);
    expect(entry.total_tokens).toBe(15);
  });

  it('switched off on another instance, requests here stop being stored within a second; the purge deletes the rest', async () => {
    const second = await startTestApp(engine, { database: { databaseUrl: t.gh.config.databaseUrl, dataDir: t.gh.config.dataDir } });
    try {
      const off = await second.app.inject({ method: 'PUT', url: '/admin/v1/llm/request-log', headers: { apikey: t.gh.secretKey }, payload: { enabled: false } });
      expect(off.json()).toMatchObject({ enabled: false, retention_days: 7 });
    } finally {
      await second.close();
    }
    await new Promise((r) => setTimeout(r, 1100)); // the settings snapshot is at most a second old
    await chat();
    await new Promise((r) => setTimeout(r, 100));
    await t.gh.deps.llm.flush();
    expect(await rows()).toHaveLength(1);
    const purge = await t.admin('DELETE', '/admin/v1/llm/request-log/entries');
    expect(purge.body).toEqual({ deleted: 1 });
    expect(await rows()).toEqual([]);
  });

  it('retention: entries older than retention_days are deleted by the cleanup, and hidden before it runs', async () => {
    await t.admin('PUT', '/admin/v1/llm/request-log', { enabled: true, retention_days: 2 });
    await chat();
    await waitForRows(1);
    shiftMs = DAY_MS; // a day later: still kept
    expect(await t.gh.deps.llm.requestLog.cleanup()).toBe(0);
    expect((await entries()).entries).toHaveLength(1);
    shiftMs = 2 * DAY_MS + 60_000; // past the retention
    expect((await entries()).entries).toEqual([]);
    expect(await t.gh.deps.llm.requestLog.cleanup()).toBe(1);
    expect(await rows()).toEqual([]);
    shiftMs = 0;
  });

  it('deleting a user deletes their logged prompts, and only theirs; the audit entry says how many', async () => {
    await t.admin('PUT', '/admin/v1/llm/request-log', { enabled: true, retention_days: 7, max_body_bytes: 65536 });
    await chat(t.alice, 'from alice');
    await chat(t.bob, 'from bob');
    await chat(t.bob, 'from bob again');
    await waitForRows(3);
    const removed = await t.admin('DELETE', `/admin/v1/users/${t.bob.id}`);
    expect(removed.status).toBe(204);
    expect((await rows()).map((r) => r.user_id)).toEqual([t.alice.id]);
    expect((await entries()).entries.map((e) => e.request_body)).toEqual([expect.stringContaining('from alice')]);
    const audit = (await t.admin('GET', '/admin/v1/audit-log')).body as { entries: Array<{ action: string; target: string; details: unknown }> };
    expect(audit.entries.find((e) => e.action === 'user.delete' && e.target === t.bob.id)?.details).toEqual({ llm_request_log_entries_deleted: 2 });
    await t.admin('DELETE', '/admin/v1/llm/request-log/entries');
  });
});

describe.each(engines())('gatehouse llm request-log (%s)', (engine) => {
  const db = useSeededDatabase(engine, 'shop');

  it('show, enable and disable write the same setting as the admin API', async () => {
    const show = await runCliOn(db, ['--json', 'llm', 'request-log', 'show', '-p', 'shop']);
    expect(show.code, show.err).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({ enabled: false });
    const on = await runCliOn(db, ['llm', 'request-log', 'enable', '-p', 'shop', '--retention-days', '14', '--max-body-bytes', '1024']);
    expect(on.code, on.err).toBe(0);
    expect(on.out).toContain('on');
    expect(JSON.parse((await runCliOn(db, ['--json', 'llm', 'request-log', 'show', '-p', 'shop'])).out)).toMatchObject({ enabled: true, retention_days: 14, max_body_bytes: 1024, updated_by: 'cli' });
    const off = await runCliOn(db, ['--json', 'llm', 'request-log', 'disable', '-p', 'shop']);
    expect(JSON.parse(off.out)).toMatchObject({ enabled: false, retention_days: 14 });
    for (const args of [['--retention-days', '0'], ['--retention-days', '91'], ['--retention-days', '7', '--max-body-bytes', 'lots']]) {
      const bad = await runCliOn(db, ['llm', 'request-log', 'enable', '-p', 'shop', ...args]);
      expect(bad.code, args.join(' ')).toBe(1);
      expect(bad.err).toMatch(/must be a whole number/);
    }
    expect((await runCliOn(db, ['llm', 'request-log', 'enable', '-p', 'shop'])).code).toBe(2); // --retention-days is required
  });
});

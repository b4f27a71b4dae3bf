// Issue 18: one client cannot occupy the provider connections every project shares. Requests in
// flight are counted per user, per project and per provider origin; past a limit the answer is
// provider-shaped (429 llm_concurrency_exceeded or 503 upstream_busy, with Retry-After), given
// before the body is read, and a slot comes back however its request ends.
// SQLite only: the counts are in memory and no table is involved.
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLlmTest, type LlmTest } from './setup.js';
import type { TestUser } from '../harness/users.js';

const chat = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true });

function headersOf(t: LlmTest, user: TestUser): Record<string, string> {
  return { apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' };
}

/** A streamed chat completion left open: resolves once its headers arrived; `abort` leaves. */
async function openStream(t: LlmTest, user: TestUser): Promise<{ status: number; abort(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: headersOf(t, user), body: chat, signal: controller.signal });
  if (res.status !== 200) await res.text();
  return { status: res.status, abort: () => controller.abort() };
}

/** A whole streamed completion, read to its end. */
async function fullStream(t: LlmTest, user: TestUser): Promise<{ status: number; text: string; retryAfter: string | null }> {
  const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: headersOf(t, user), body: chat });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text().catch(() => '') };
}

/**
 * A request whose headers announce a body that is never sent: an answer proves the refusal came
 * before the body was read (a proxy that read it would wait for the body until the test ends).
 */
function withoutBody(t: LlmTest, user: TestUser): Promise<{ status: number; retryAfter: string | undefined; body: any }> {
  const url = new URL(t.gh.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path: '/llm/openai/v1/chat/completions', method: 'POST',
      headers: { ...headersOf(t, user), 'content-length': '1000' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** A request that announces a body and sends only part of it, as a slow upload does; `abort` leaves. */
function slowUpload(t: LlmTest, user: TestUser, body = ''): { abort(): void; answered: Promise<number> } {
  const url = new URL(t.gh.url);
  const req = httpRequest({
    host: url.hostname, port: url.port, path: '/llm/openai/v1/chat/completions', method: 'POST',
    headers: { ...headersOf(t, user), 'content-length': String(Buffer.byteLength(chat)) },
  });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
  req.write(body);
  req.flushHeaders();
  return { abort: () => req.destroy(), answered };
}

/** Waits until nothing is in flight any more (slots are freed when the response closes). */
async function drained(t: LlmTest, timeoutMs = 3_000): Promise<void> {
  const admission = t.gh.deps.llm.admission;
  const counts = () => [
    admission.inFlight({ subject: `${t.gh.project.id}/user:${t.alice.id}` }), admission.inFlight({ subject: `${t.gh.project.id}/user:${t.bob.id}` }),
    admission.inFlight({ projectId: t.gh.project.id }), admission.inFlight({ origin: t.fake.url }),
  ];
  const until = Date.now() + timeoutMs;
  while (counts().some((n) => n > 0)) {
    if (Date.now() > until) throw new Error(`still in flight: ${counts().join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('requests in flight per user and per project', () => {
  let t: LlmTest;
  beforeAll(async () => {
    t = await startLlmTest('sqlite', {
      env: { GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_USER: '2', GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_PROJECT: '3', GATEHOUSE_LLM_BODY_IDLE_TIMEOUT_MS: '500', GATEHOUSE_LLM_HEADERS_TIMEOUT_MS: '500' },
    });
  });
  afterAll(() => t.close());
  beforeEach(() => t.fake.reset());

  it('a user past its limit gets 429 in the OpenAI shape with Retry-After before its body is read; others still pass until the project is full', async () => {
    t.fake.mode = { stallBody: true }; // streams stay open
    const open = [await openStream(t, t.alice), await openStream(t, t.alice)];
    expect(open.map((s) => s.status)).toEqual([200, 200]);

    const refused = await withoutBody(t, t.alice);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toMatchObject({ error: { code: 'llm_concurrency_exceeded', type: 'rate_limit_exceeded' }, retry_after: 1 });
    expect(refused.body.error.message).toContain('user');
    expect(t.fake.requests).toHaveLength(2);

    // Bob has his own count; his stream is the project's third, its last.
    const bobs = await openStream(t, t.bob);
    expect(bobs.status).toBe(200);
    const projectFull = await withoutBody(t, t.bob);
    expect(projectFull.status).toBe(429);
    expect(projectFull.body.error.message).toContain('project');
    expect(t.fake.requests).toHaveLength(3);
    const admission = t.gh.deps.llm.admission;
    expect([admission.inFlight({ projectId: t.gh.project.id }), admission.inFlight({ origin: t.fake.url })]).toEqual([3, 3]);

    // Clients that leave give their slots back.
    for (const s of [...open, bobs]) s.abort();
    await t.fake.waitForAborted(3);
    await drained(t);
    t.fake.mode = {};
    expect((await fullStream(t, t.alice)).status).toBe(200);
  });

  it('a slot comes back however the request ends: stream end, upstream reset, provider 5xx, provider 4xx, timeouts', async () => {
    const rounds = 3; // more than the user's limit of 2: a leaked slot turns a later round into 429
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(200);
    await drained(t);

    t.fake.mode = { reset: true };
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(502);
    await drained(t);

    t.fake.mode = { failStatus: 500 };
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(502);
    t.fake.mode = { failStatus: 400 };
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(400);
    await drained(t);

    // The provider goes silent mid-stream: the idle timeout ends the stream, and its slot.
    t.fake.mode = { stallBody: true };
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(200);
    await drained(t);

    // No headers at all: 504 after the headers timeout.
    t.fake.mode = { stallHeaders: true };
    for (let i = 0; i < rounds; i++) expect((await fullStream(t, t.alice)).status).toBe(504);
    await drained(t);
  });

  it('a client that leaves while its request is checked (quota) is never sent upstream, and its slot comes back', async () => {
    const quotas = t.gh.deps.llm.quotas;
    const check = quotas.check;
    let reached!: () => void;
    const checking = new Promise<void>((r) => (reached = r));
    let resume!: () => void;
    const held = new Promise<void>((r) => (resume = r));
    // Holds the quota check open (the real one runs after), to leave exactly then.
    quotas.check = async (subject) => {
      reached();
      await held;
      return check.call(quotas, subject);
    };
    try {
      const gone = slowUpload(t, t.alice, chat);
      await checking;
      gone.abort();
      await new Promise((r) => setTimeout(r, 100)); // the close reaches the server
      resume();
      await drained(t);
      await new Promise((r) => setTimeout(r, 100)); // time for a request upstream, were one sent
      expect(t.fake.requests).toHaveLength(0);
    } finally {
      quotas.check = check;
    }
    expect((await fullStream(t, t.alice)).status).toBe(200);
  });

  it('a request refused later (bad JSON, 400) or earlier (unknown endpoint, 403) holds no slot', async () => {
    for (let i = 0; i < 3; i++) {
      const bad = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: headersOf(t, t.alice), body: '{"model": ' });
      expect(bad.status).toBe(400);
      const closed = await fetch(`${t.gh.url}/llm/openai/v1/organization/users`, { headers: headersOf(t, t.alice) });
      expect(closed.status).toBe(403);
    }
    await drained(t);
    expect(t.fake.requests).toHaveLength(0);
  });
});

describe('requests in flight per provider origin', () => {
  let t: LlmTest;
  beforeAll(async () => {
    t = await startLlmTest('sqlite', { env: { GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_ORIGIN: '2', GATEHOUSE_LLM_ORIGIN_QUEUE_MS: '400' } });
  });
  afterAll(() => t.close());
  beforeEach(() => t.fake.reset());

  it('a slow upload holds no origin slot: it takes one only once its body is read', async () => {
    const uploads = [slowUpload(t, t.alice, chat.slice(0, 10)), slowUpload(t, t.bob, chat.slice(0, 10))];
    await new Promise((r) => setTimeout(r, 100)); // both past preParsing, reading their bodies
    t.fake.mode = { stallBody: true };
    // The origin's two slots are free for requests that are ready to go.
    const open = [await openStream(t, t.alice), await openStream(t, t.bob)];
    expect(open.map((s) => s.status)).toEqual([200, 200]);
    expect(t.gh.deps.llm.admission.inFlight({ origin: t.fake.url })).toBe(2);
    for (const u of uploads) u.abort();
    for (const s of open) s.abort();
    await t.fake.waitForAborted(2);
    await drained(t);
    expect(t.fake.requests).toHaveLength(2);
  });

  it('a full origin is a bounded wait: 503 upstream_busy with Retry-After when no slot frees in time, never sent upstream', async () => {
    t.fake.mode = { stallBody: true };
    const open = [await openStream(t, t.alice), await openStream(t, t.bob)];
    const started = Date.now();
    // The origin slot is taken once the body is read, just before the request would go upstream.
    const res = await fetch(`${t.gh.url}/llm/openai/v1/chat/completions`, { method: 'POST', headers: headersOf(t, t.alice), body: chat });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350); // it waited for a slot first
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1'); // ceil(400 ms / 1000)
    expect(await res.json()).toMatchObject({ error: { code: 'upstream_busy', type: 'server_error' }, retry_after: 1 });
    expect(t.fake.requests).toHaveLength(2);
    for (const s of open) s.abort();
    await t.fake.waitForAborted(2);
    await drained(t);
  });

  it('a slot that frees during the wait goes to the waiting request, which then streams', async () => {
    t.fake.mode = { stallBody: true };
    const open = [await openStream(t, t.alice), await openStream(t, t.bob)];
    t.fake.mode = {};
    const waiting = fullStream(t, t.alice);
    await new Promise((r) => setTimeout(r, 100));
    open[0]!.abort();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('[DONE]');
    open[1]!.abort();
    await drained(t);
  });
});

// The pool's size caps the origin too: with `connections: 2` (HTTP/1.1, one stream a connection)
// a third request would otherwise be queued by undici, silently and until a stream ends. The
// origin's maxInFlight stays at its default (8192): only `connections` can make these pass.
describe('an origin with few connections', () => {
  const connections = 2;
  let t: LlmTest;
  beforeAll(async () => {
    t = await startLlmTest('sqlite', {
      env: { GATEHOUSE_LLM_ORIGIN_QUEUE_MS: '1000' },
      configFile: (fake) => ({ llm: { origins: { [fake.url]: { connections } } } }),
    });
  });
  afterAll(() => t.close());
  beforeEach(() => t.fake.reset());

  it('holding `connections` streams, one more request waits at most originQueueMs, then 503 upstream_busy with Retry-After; upstream never sees more', async () => {
    expect(t.gh.config.llm.maxInFlightPerOrigin).toBeGreaterThan(connections);
    t.fake.mode = { stallBody: true };
    const open = [await openStream(t, t.alice), await openStream(t, t.bob)];
    try {
      expect(open.map((s) => s.status)).toEqual([200, 200]);
      expect(t.fake.inFlight).toBe(connections);

      // The official SDK, no retries; its own timeout turns a request queued without bound into a failure here.
      const ai = new OpenAI({ baseURL: `${t.gh.url}/llm/openai/v1`, apiKey: t.alice.accessToken, defaultHeaders: { apikey: t.gh.publishableKey }, maxRetries: 0, timeout: 5_000 });
      const started = Date.now();
      const error = await ai.chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], stream: true }).then(
        () => null,
        (e: unknown) => e,
      );
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(OpenAI.InternalServerError); // not APIConnectionTimeoutError: it was never queued in undici
      const busy = error as InstanceType<typeof OpenAI.InternalServerError>;
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1'); // ceil(1000 ms / 1000)
      expect(busy.error).toMatchObject({ code: 'upstream_busy', type: 'server_error' });
      expect(waited).toBeGreaterThanOrEqual(950); // it waited for a slot first…
      expect(waited).toBeLessThan(4_000); // …for the bounded wait, not until a stream ended

      expect(t.fake.requests).toHaveLength(connections);
      expect(t.fake.maxInFlight).toBe(connections);
    } finally {
      for (const s of open) s.abort(); // even on failure: the next test needs the connections
    }
    await t.fake.waitForAborted(connections);
    await drained(t);
  });

  it('a held stream that finishes during the wait hands its slot to the waiting request, which completes; upstream never sees more', async () => {
    t.fake.mode = { chunkDelayMs: 100, streamChunks: 3 }; // each held stream ends on its own after ~300 ms
    const held = [fullStream(t, t.alice), fullStream(t, t.bob)];
    const until = Date.now() + 3_000;
    while (t.fake.inFlight < connections && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(t.fake.inFlight).toBe(connections);
    t.fake.mode = {};
    const answer = await t.openai(t.alice).chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    for (const h of await Promise.all(held)) {
      expect(h.status).toBe(200);
      expect(h.text).toContain('[DONE]');
    }
    expect(t.fake.requests).toHaveLength(connections + 1);
    expect(t.fake.maxInFlight).toBe(connections);
    await drained(t);
  });
});

// The defaults as shipped (16 per user): the 17th request of one user is refused before its body
// is read, while another user of the same project is still admitted.
describe('the default per-user limit', () => {
  let t: LlmTest;
  beforeAll(async () => {
    t = await startLlmTest('sqlite');
  });
  afterAll(() => t.close());
  beforeEach(() => t.fake.reset());

  it("a user's 17th concurrent request gets 429 before its body is read; another user is admitted", async () => {
    expect(t.gh.config.llm.maxInFlightPerUser).toBe(16);
    t.fake.mode = { stallBody: true };
    const open = await Promise.all(Array.from({ length: 16 }, () => openStream(t, t.alice)));
    expect(open.every((s) => s.status === 200)).toBe(true);

    const refused = await withoutBody(t, t.alice);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toMatchObject({ error: { code: 'llm_concurrency_exceeded', type: 'rate_limit_exceeded' } });
    expect(refused.body.error.message).toContain('16');

    const bobs = await openStream(t, t.bob);
    expect(bobs.status).toBe(200);
    expect(t.fake.requests).toHaveLength(17);
    for (const s of [...open, bobs]) s.abort();
    await t.fake.waitForAborted(17);
    await drained(t);
  });
});

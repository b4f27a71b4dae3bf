import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { expireGeminiFile, FAKE_KEYS, geminiFileBytes } from '../harness/fake-llm/index.js';
import type { TestUser } from '../harness/users.js';
import { assertNoSecrets, startLlmTest, type LlmTest } from './setup.js';

// Gemini file uploads through /llm/gemini, the way @google/genai and
// google-genai do them with fetch: Google's resumable protocol (start, then
// upload/finalize/query/cancel on the returned upload URL) and the one-shot
// multipart form. The upload URL must lead back through Gatehouse, and an
// upload session, like the file it produces, belongs to the user who started it.

const LIMIT = 64 * 1024; // the proxy's body limit in these tests (GATEHOUSE_BODY_LIMIT)

/** Bytes that are not valid UTF-8 (a lone 0xff, 0xc3 without continuation, NULs). */
function binary(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  out[0] = 0xff;
  out[1] = 0xc3;
  out[2] = 0x00;
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe.each(engines())('Gemini file uploads through the proxy (%s)', (engine) => {
  let t: LlmTest;
  const auth = (user: TestUser | null, extra: Record<string, string> = {}) => ({
    apikey: t.gh.publishableKey,
    ...(user ? { authorization: `Bearer ${user.accessToken}` } : {}),
    ...extra,
  });
  const start = (user: TestUser | null, size: number, extra: Record<string, string> = {}) =>
    fetch(`${t.gh.url}/llm/gemini/upload/v1beta/files`, {
      method: 'POST',
      headers: auth(user, {
        'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': String(size), 'x-goog-upload-header-content-type': 'application/pdf',
        'content-type': 'application/json', ...extra,
      }),
      body: JSON.stringify({ file: { display_name: 'report.pdf' } }),
    });
  const send = (user: TestUser | null, url: string, command: string, body?: Buffer, extra: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: auth(user, { 'x-goog-upload-command': command, ...extra }), body });
  /** A started session of `user`: its Gatehouse upload URL. */
  const started = async (user: TestUser, size: number) => {
    const res = await start(user, size);
    expect(res.status).toBe(200);
    return res.headers.get('x-goog-upload-url')!;
  };
  /** A whole resumable upload in one chunk: the file JSON. */
  const uploadFile = async (user: TestUser, data: Buffer) => {
    const url = await started(user, data.length);
    const res = await send(user, url, 'upload, finalize', data, { 'x-goog-upload-offset': '0' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { file: { name: string; uri: string } }).file;
  };
  const generate = (user: TestUser, fileUri: string) =>
    fetch(`${t.gh.url}/llm/gemini/v1beta/models/gemini-fake:generateContent`, {
      method: 'POST', headers: auth(user, { 'content-type': 'application/json' }),
      body: JSON.stringify({ contents: [{ parts: [{ text: 'summarise' }, { fileData: { fileUri, mimeType: 'application/pdf' } }] }] }),
    });

  beforeAll(async () => {
    t = await startLlmTest(engine, { env: { GATEHOUSE_BODY_LIMIT: String(LIMIT), GATEHOUSE_JSON_BODY_LIMIT: String(LIMIT) } });
  });
  afterAll(async () => {
    assertNoSecrets(t);
    await t.close();
  });
  beforeEach(() => t.fake.reset());

  it('a resumable upload passes byte for byte, in chunks, and its upload URL leads back through Gatehouse', async () => {
    const data = binary(3000, 7);
    const res = await start(t.alice, data.length);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-goog-upload-status')).toBe('active');
    expect(res.headers.get('x-goog-upload-chunk-granularity')).toBe('8388608');
    expect(res.headers.get('x-goog-upload-control-url')).toBeNull(); // not on the allowlist: it names Google
    const url = res.headers.get('x-goog-upload-url')!;
    expect(url).toMatch(new RegExp(`^${t.gh.url}/llm/gemini/upload/v1beta/files\\?upload_id=[A-Za-z0-9_-]+&upload_protocol=resumable$`));

    const opened = t.fake.requests[0]!;
    expect(opened.url).toBe('/gemini/upload/v1beta/files');
    expect(opened.headers).toMatchObject({
      'x-goog-api-key': FAKE_KEYS.gemini, 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': '3000', 'x-goog-upload-header-content-type': 'application/pdf',
    });
    expect(opened.headers.authorization).toBeUndefined();
    expect(opened.headers.apikey).toBeUndefined();

    // First chunk as @google/genai sends it (Content-Type: application/json over raw bytes), then a status query.
    const first = await send(t.alice, url, 'upload', data.subarray(0, 1024), { 'x-goog-upload-offset': '0', 'content-type': 'application/json' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-goog-upload-status')).toBe('active');
    expect(first.headers.get('x-goog-upload-size-received')).toBe('1024');
    const query = await send(t.alice, url, 'query');
    expect(query.headers.get('x-goog-upload-size-received')).toBe('1024');
    const last = await send(t.alice, url, 'upload, finalize', data.subarray(1024), { 'x-goog-upload-offset': '1024', 'content-type': 'application/octet-stream' });
    expect(last.status).toBe(200);
    expect(last.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await last.json()) as { file: { name: string; sizeBytes: string; sha256Hash: string; mimeType: string; displayName: string } };
    expect(file).toMatchObject({ sizeBytes: '3000', sha256Hash: sha256(data), mimeType: 'application/pdf', displayName: 'report.pdf' });
    expect(geminiFileBytes(file.name)!.equals(data)).toBe(true);

    const id = new URL(url).searchParams.get('upload_id');
    const chunks = t.fake.requests.slice(1);
    expect(chunks.map((r) => r.url)).toEqual(Array(3).fill(`/gemini/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`));
    expect(Buffer.concat([chunks[0]!.body, chunks[2]!.body]).equals(data)).toBe(true);
    expect(chunks[0]!.headers).toMatchObject({ 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '0', 'x-goog-api-key': FAKE_KEYS.gemini });

    // The file is alice's: she reads it and uses it in a prompt.
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${file.name}`, { headers: auth(t.alice) })).status).toBe(200);
    expect((await generate(t.alice, `https://generativelanguage.googleapis.com/v1beta/${file.name}`)).status).toBe(200);
  });

  it('another user\'s upload URL is 404 for every command and nothing reaches Google', async () => {
    const url = await started(t.alice, 10);
    t.fake.reset();
    for (const [command, extra] of [['upload, finalize', { 'x-goog-upload-offset': '0' }], ['upload', { 'x-goog-upload-offset': '0' }], ['query', {}], ['cancel', {}]] as const) {
      const res = await send(t.bob, url, command, command.startsWith('upload') ? binary(10, 1) : undefined, extra);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    }
    expect(t.fake.requests).toHaveLength(0);
    await t.gh.deps.events.flush();
    const events = await t.gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', 'resource_access_denied').execute();
    const details = events.map((e) => JSON.parse(String(e.details)) as { kind?: string; user_id?: string; reason?: string });
    expect(details.filter((d) => d.kind === 'upload' && d.user_id === t.bob.id && d.reason === 'other_owner')).toHaveLength(4);
    // Alice's session is untouched and still hers.
    const done = await send(t.alice, url, 'upload, finalize', binary(10, 1), { 'x-goog-upload-offset': '0' });
    expect(done.status).toBe(200);
  });

  it('another user\'s file is 404 to read, delete or reference; lists show only one\'s own files', async () => {
    const a = await uploadFile(t.alice, binary(100, 2));
    const b = await uploadFile(t.bob, binary(50, 3));
    t.fake.reset();
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${a.name}`, { headers: auth(t.bob) })).status).toBe(404);
    const del = await fetch(`${t.gh.url}/llm/gemini/v1beta/${a.name}`, { method: 'DELETE', headers: auth(t.bob) });
    expect(del.status).toBe(404);
    expect(await del.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    for (const uri of [a.uri, `https://generativelanguage.googleapis.com/v1beta/${a.name}`, a.name, `${a.uri}?alt=media`]) {
      expect((await generate(t.bob, uri)).status).toBe(404);
    }
    expect(t.fake.requests).toHaveLength(0);

    const names = async (user: TestUser) =>
      (((await (await fetch(`${t.gh.url}/llm/gemini/v1beta/files`, { headers: auth(user) })).json()) as { files?: Array<{ name: string }> }).files ?? []).map((f) => f.name);
    const aliceSees = await names(t.alice);
    expect(aliceSees).toContain(a.name);
    expect(aliceSees).not.toContain(b.name);
    expect(await names(t.bob)).not.toContain(a.name);

    // Her own delete works, and afterwards the name is no longer hers either.
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${a.name}`, { method: 'DELETE', headers: auth(t.alice) })).status).toBe(200);
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${a.name}`, { headers: auth(t.alice) })).status).toBe(404);
  });

  it('a multipart upload passes byte for byte and the file belongs to its uploader', async () => {
    const data = binary(2000, 9);
    const boundary = 'gh-test-boundary-42';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ file: { displayName: 'pic.png' } })}\r\n--${boundary}\r\nContent-Type: image/png\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${t.gh.url}/llm/gemini/upload/v1beta/files`, {
      method: 'POST', headers: auth(t.bob, { 'x-goog-upload-protocol': 'multipart', 'content-type': `multipart/related; boundary=${boundary}` }), body,
    });
    expect(res.status).toBe(200);
    const { file } = (await res.json()) as { file: { name: string; sha256Hash: string; mimeType: string } };
    expect(file).toMatchObject({ sha256Hash: sha256(data), mimeType: 'image/png' });
    expect(t.fake.requests[0]!.body.equals(body)).toBe(true);
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${file.name}`, { headers: auth(t.alice) })).status).toBe(404);
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${file.name}`, { headers: auth(t.bob) })).status).toBe(200);
  });

  it('an upload URL off the provider\'s own upload endpoint is refused with 502', async () => {
    for (const forged of [
      'https://evil.example/upload/v1beta/files?upload_id=abc&upload_protocol=resumable',
      `${t.fake.url}/gemini/v1beta/files?upload_id=abc&upload_protocol=resumable`,
      `${t.fake.url}/elsewhere/upload/v1beta/files?upload_id=abc`,
      `${t.fake.url}/gemini/upload/v1beta/files?upload_protocol=resumable`,
      'not a url',
    ]) {
      t.fake.mode.geminiUploadUrl = forged;
      const res = await start(t.alice, 10);
      expect(res.status, forged).toBe(502);
      expect(res.headers.get('x-goog-upload-url')).toBeNull();
      expect(await res.json()).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } });
    }
    // The refused ids were never recorded: using one is a 404.
    t.fake.reset();
    const res = await send(t.alice, `${t.gh.url}/llm/gemini/upload/v1beta/files?upload_id=abc&upload_protocol=resumable`, 'query');
    expect(res.status).toBe(404);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a made-up upload id is 404; a session command without one upload_id, or a malformed one, is 400', async () => {
    const base = `${t.gh.url}/llm/gemini/upload/v1beta/files`;
    expect((await send(t.alice, `${base}?upload_id=ADPycdForged123&upload_protocol=resumable`, 'upload, finalize', binary(5, 1), { 'x-goog-upload-offset': '0' })).status).toBe(404);
    const url = await started(t.alice, 5);
    const id = new URL(url).searchParams.get('upload_id')!;
    t.fake.reset();
    const cases: Array<[string, string, Record<string, string>]> = [
      [base, 'upload, finalize', { 'x-goog-upload-offset': '0' }], // no upload_id
      [`${base}?upload_id=${id}&upload_id=${id}`, 'query', {}], // two
      [`${base}?upload_id=${id}&upload_protocol=multipart`, 'query', {}],
      [`${base}?upload_id=${id}`, 'start', { 'x-goog-upload-protocol': 'resumable' }], // start on a session URL
      [`${base}?upload_id=${id}`, 'upload, delete', { 'x-goog-upload-offset': '0' }], // unknown command
      [`${base}?upload_id=${id}`, 'upload', { 'x-goog-upload-offset': '-1' }],
    ];
    for (const [u, command, extra] of cases) {
      const res = await send(t.alice, u, command, undefined, extra);
      expect(res.status, `${command} ${u}`).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    }
    // upload_id without any command (a simple upload must not name a session).
    const plain = await fetch(`${base}?upload_id=${id}`, { method: 'POST', headers: auth(t.alice, { 'x-goog-upload-protocol': 'raw', 'content-type': 'application/octet-stream' }), body: binary(5, 1) });
    expect(plain.status).toBe(400);
    expect(t.fake.requests).toHaveLength(0);
    // Extra query parameters (and a client-supplied key) never reach Google.
    const ok = await send(t.alice, `${url}&key=client-key&uploadType=media&alt=json`, 'query');
    expect(ok.status).toBe(200);
    expect(t.fake.requests[0]!.url).toBe(`/gemini/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`);
  });

  it('an oversized upload is 413 before anything reaches Google', async () => {
    const declared = await start(t.alice, LIMIT + 1);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 413 } });
    const url = await started(t.alice, LIMIT);
    t.fake.reset();
    // A chunk within the body limit that would take the file past it.
    const past = await send(t.alice, url, 'upload', binary(1024, 4), { 'x-goog-upload-offset': String(LIMIT - 100) });
    expect(past.status).toBe(413);
    // One body larger than the limit.
    const big = await send(t.alice, url, 'upload, finalize', binary(LIMIT + 10, 4), { 'x-goog-upload-offset': '0', 'content-type': 'application/octet-stream' });
    expect(big.status).toBe(413);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a chunk without Content-Length is cut at the file limit, streamed or buffered', async () => {
    const url = await started(t.alice, LIMIT);
    for (const type of ['application/octet-stream', 'application/json']) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(binary(512, 5));
          controller.enqueue(binary(512, 6));
          controller.close();
        },
      });
      const res = await fetch(url, {
        method: 'POST', body, duplex: 'half',
        headers: auth(t.alice, { 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': String(LIMIT - 600), 'content-type': type }),
      } as RequestInit);
      expect(res.status, type).toBe(413);
    }
    // Nothing was stored past the limit.
    const status = await send(t.alice, url, 'query');
    expect(status.headers.get('x-goog-upload-size-received')).toBe('0');
  });

  it('a file name the caller picks: taken is Google\'s 409, and once the old file is gone the new one is its creator\'s', async () => {
    const pick = `files/pick-${Date.now().toString(36)}`;
    const named = async (user: TestUser) => {
      const res = await fetch(`${t.gh.url}/llm/gemini/upload/v1beta/files`, {
        method: 'POST',
        headers: auth(user, { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'content-type': 'application/json' }),
        body: JSON.stringify({ file: { name: pick } }),
      });
      if (res.status !== 200) return res;
      return send(user, res.headers.get('x-goog-upload-url')!, 'upload, finalize', binary(4, 1), { 'x-goog-upload-offset': '0' });
    };
    const first = await named(t.alice);
    expect(((await first.json()) as { file: { name: string } }).file.name).toBe(pick);
    expect((await named(t.bob)).status).toBe(409); // alice's file still exists upstream
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${pick}`, { headers: auth(t.bob) })).status).toBe(404);

    // Google drops alice's file (48 hours); her record is stale. Bob's new file of that name is his alone.
    expireGeminiFile(pick);
    const second = await named(t.bob);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { file: { name: string } }).file.name).toBe(pick);
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${pick}`, { headers: auth(t.bob) })).status).toBe(200);
    expect((await fetch(`${t.gh.url}/llm/gemini/v1beta/${pick}`, { headers: auth(t.alice) })).status).toBe(404);
    expect((await generate(t.alice, pick)).status).toBe(404);
  });

  it('without a user token a publishable key cannot start or continue an upload', async () => {
    const url = await started(t.alice, 10);
    t.fake.reset();
    const noJwt = await start(null, 10);
    expect(noJwt.status).toBe(401);
    expect(await noJwt.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    expect((await send(null, url, 'query')).status).toBe(401);
    // The publishable key as the bearer token is not a user either.
    expect((await send(null, url, 'query', undefined, { authorization: `Bearer ${t.gh.publishableKey}` })).status).toBe(401);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a cancelled session reports its status to its owner', async () => {
    const url = await started(t.alice, 10);
    const cancel = await send(t.alice, url, 'cancel');
    expect(cancel.status).toBe(200);
    expect(cancel.headers.get('x-goog-upload-status')).toBe('cancelled');
    expect((await send(t.alice, url, 'query')).headers.get('x-goog-upload-status')).toBe('cancelled');
  });

  it('with a public URL configured, the upload URL is built on it', async () => {
    const other = await startLlmTest(engine, { env: { GATEHOUSE_PUBLIC_URL: 'https://api.example.com/gh/' } });
    try {
      const res = await fetch(`${other.gh.url}/llm/gemini/upload/v1beta/files`, {
        method: 'POST',
        headers: {
          apikey: other.gh.publishableKey, authorization: `Bearer ${other.alice.accessToken}`,
          'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'content-type': 'application/json',
        },
        body: JSON.stringify({ file: {} }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-goog-upload-url')).toMatch(/^https:\/\/api\.example\.com\/gh\/llm\/gemini\/upload\/v1beta\/files\?upload_id=[^&]+&upload_protocol=resumable$/);
    } finally {
      await other.close();
    }
  });
});

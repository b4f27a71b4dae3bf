import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { uploadGeminiFile, useLlmTest, type LlmTest } from './setup.js';

// Issue 11 item 10: a Gemini file named in a prompt in a spelling Google
// accepts (snake_case or odd-case keys, encoded slashes, padding, upper case)
// must meet the same ownership check as the canonical `fileData.fileUri`.

const headers = (t: LlmTest, user: TestUser, extra: Record<string, string> = {}) => ({
  apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}`, ...extra,
});

function generate(t: LlmTest, user: TestUser, part: object): Promise<Response> {
  return fetch(`${t.gh.url}/llm/gemini/v1beta/models/gemini-fake:generateContent`, {
    method: 'POST', headers: headers(t, user, { 'content-type': 'application/json' }),
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'summarise' }, part] }] }),
  });
}

/** Every spelling of "alice's file `id`" that Google's JSON parser and URL handling could accept. */
function spellings(id: string): object[] {
  const full = `https://generativelanguage.googleapis.com/v1beta/files/${id}`;
  const values = [
    `files/${id}`, full, `files%2F${id}`, `files%2f${id}`, `files%252F${id}`, ` files/${id}`, `files/${id}\n`, `FILES/${id.toUpperCase()}`,
    `https://generativelanguage.googleapis.com/v1beta/files%2F${id}`, encodeURIComponent(full), ` ${full}`, full.toUpperCase(),
  ];
  const keys = ['fileUri', 'file_uri', 'FileUri', 'FILE_URI'];
  return [
    ...values.map((fileUri) => ({ fileData: { fileUri, mimeType: 'text/plain' } })),
    ...keys.map((key) => ({ file_data: { [key]: `files/${id}`, mime_type: 'text/plain' } })),
    ...keys.map((key) => ({ fileData: { [key]: `files%2F${id}` } })),
  ];
}

describe.each(engines())('Gemini file references are normalised before the ownership check (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('another user\'s file is 404 in every spelling Google accepts, and nothing reaches Google', async () => {
    const id = await uploadGeminiFile(t, t.alice);
    t.fake.reset();
    for (const part of spellings(id)) {
      const res = await generate(t, t.bob, part);
      expect(res.status, JSON.stringify(part)).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    }
    expect(t.fake.requests).toHaveLength(0);
  });

  it('the owner may use her file in each of those spellings', async () => {
    const id = await uploadGeminiFile(t, t.alice);
    t.fake.reset();
    for (const part of spellings(id)) expect((await generate(t, t.alice, part)).status, JSON.stringify(part)).toBe(200);
    expect(t.fake.requests).toHaveLength(spellings(id).length);
  });

  it('a file URI naming Google\'s API that does not normalise to one file is refused, even for the owner', async () => {
    const id = await uploadGeminiFile(t, t.alice);
    t.fake.reset();
    for (const fileUri of [`files/${id}?alt=media`, `/v1beta/files/${id}`, `files/x/../${id}`, `files%ZZ${id}`, `generativelanguage.googleapis.com/v1beta/files/${id}`]) {
      const res = await generate(t, t.alice, { fileData: { fileUri } });
      expect(res.status, fileUri).toBe(404);
    }
    expect(t.fake.requests).toHaveLength(0);
    await t.gh.deps.events.flush();
    const events = await t.gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', 'resource_access_denied').execute();
    expect(events.map((e) => JSON.parse(String(e.details)) as { reason?: string }).filter((d) => d.reason === 'unreadable').length).toBeGreaterThanOrEqual(5);
  });

  it('YouTube and other external URIs still pass', async () => {
    for (const fileUri of ['https://www.youtube.com/watch?v=abc', 'gs://bucket/video.mp4', 'https://example.com/videos/talk.mp4']) {
      expect((await generate(t, t.bob, { fileData: { fileUri } })).status, fileUri).toBe(200);
    }
  });

  it('a file path with an encoded slash, a dot segment or another case never reaches Google for another user', async () => {
    const id = await uploadGeminiFile(t, t.alice);
    t.fake.reset();
    // node:http sends the path as written (fetch and undici resolve dot segments first).
    const get = (path: string) => new Promise<{ status: number }>((resolve, reject) => {
      const { hostname, port } = new URL(t.gh.url);
      const req = httpRequest({ hostname, port, path: `/llm/gemini${path}`, headers: headers(t, t.bob) }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      });
      req.on('error', reject).end();
    });
    for (const path of [`/v1beta/files%2F${id}`, `/v1beta/files%2f${id}`, `/v1beta/x/../files/${id}`, `/v1beta/./files/${id}`, `/v1beta/files/${id}/.`, `/v1beta/%66iles/${id}`]) {
      expect((await get(path)).status, path).toBe(400);
    }
    expect((await get(`/v1beta/files/${id.toUpperCase()}`)).status).toBe(404);
    expect((await get(`/v1beta/FILES/${id}`)).status).toBe(403);
    expect((await get(`/v1beta/files/${id}`)).status).toBe(404);
    expect(t.fake.requests).toHaveLength(0);
  });
});

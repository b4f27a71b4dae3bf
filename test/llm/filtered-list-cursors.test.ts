import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { uploadGeminiFile, useLlmTest, type LlmTest } from './setup.js';

// Issue 11 item 11: a list filtered to the caller's items must not keep the
// provider's cursors (first_id, last_id, Gemini's nextPageToken), which name
// another user's resource when that one was filtered out; and a cursor in the
// request (after, before, after_id, before_id) must be the caller's own.

const get = (t: LlmTest, user: TestUser, path: string) =>
  fetch(`${t.gh.url}${path}`, { headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}` } });

async function openAiFile(t: LlmTest, user: TestUser, name: string): Promise<string> {
  return (await t.openai(user).files.create({ file: await toFile(Buffer.from(name), `${name}.jsonl`), purpose: 'batch' })).id;
}

describe.each(engines())('filtered lists carry only the caller\'s cursors (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('OpenAI: first_id / last_id never name another user\'s file; an empty page ends the listing', async () => {
    const a1 = await openAiFile(t, t.alice, 'a1');
    const b1 = await openAiFile(t, t.bob, 'b1');
    const a2 = await openAiFile(t, t.alice, 'a2');
    // The provider's page is [a2, b1] with last_id b1.
    const page = await get(t, t.alice, '/llm/openai/v1/files?limit=2');
    const text = await page.text();
    expect(text).not.toContain(b1);
    expect(JSON.parse(text)).toMatchObject({ data: [{ id: a2 }], first_id: a2, last_id: a2, has_more: true });
    // A page holding only bob's file: nothing to page from, so no has_more to loop on.
    const empty = await get(t, t.alice, `/llm/openai/v1/files?limit=1&after=${a2}`);
    const emptyText = await empty.text();
    expect(emptyText).not.toContain(b1);
    expect(JSON.parse(emptyText)).toMatchObject({ data: [], first_id: null, last_id: null, has_more: false });
    // The SDK pages from her own last item and finds both of hers.
    const all: string[] = [];
    for await (const file of t.openai(t.alice).files.list({ limit: 2 })) all.push(file.id);
    expect(all).toEqual([a2, a1]);
  });

  it('OpenAI and Anthropic: a cursor naming another user\'s (or an unknown) item is 404 and nothing goes upstream', async () => {
    const b1 = await openAiFile(t, t.bob, 'b1');
    t.fake.reset();
    for (const path of [`/llm/openai/v1/files?after=${b1}`, `/llm/openai/v1/files?before=${b1}`, `/llm/openai/v1/files?limit=5&after=file-unknown`,
      `/llm/openai/v1/assistants?after=${b1}`, `/llm/anthropic/v1/files?after_id=${b1}`, `/llm/anthropic/v1/files?before_id=file_unknown`]) {
      const res = await get(t, t.alice, path);
      expect(res.status, path).toBe(404);
    }
    await expect(t.openai(t.alice).files.list({ after: b1 })).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
    // Bob pages from his own file.
    expect((await get(t, t.bob, `/llm/openai/v1/files?after=${b1}`)).status).toBe(200);
  });

  it('Gemini: nextPageToken is passed on only when it points after the caller\'s own file', async () => {
    const mine = await uploadGeminiFile(t, t.alice);
    const theirs = await uploadGeminiFile(t, t.bob);
    // Newest first: [theirs, mine]. A page of one holds bob's file, and Google's token encodes its name.
    const first = await get(t, t.alice, '/llm/gemini/v1beta/files?pageSize=1');
    const text = await first.text();
    expect(first.status).toBe(200);
    expect(text).not.toContain(theirs);
    expect(text).not.toContain(Buffer.from(`files/${theirs}`).toString('base64url'));
    expect(JSON.parse(text)).toEqual({ files: [] });
    // A page ending with her own file keeps its token.
    const more = await uploadGeminiFile(t, t.bob);
    const page = (await (await get(t, t.alice, '/llm/gemini/v1beta/files?pageSize=3')).json()) as { files: Array<{ name: string }>; nextPageToken?: string };
    expect(page.files.map((f) => f.name)).toEqual([`files/${mine}`]);
    expect(JSON.stringify(page)).not.toContain(more);
  });
});

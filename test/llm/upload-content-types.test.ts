import { toFile } from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { useLlmTest, type LlmTest } from './setup.js';

// Rule: an endpoint forwards only the content types it takes. JSON is parsed
// and its references checked on every endpoint; upload endpoints also take
// multipart/form-data, whose part headers are read and whose fields naming a
// resource (file_id…) are refused; anything else a provider might read as
// JSON (text/plain, no type, vendor +json…) is 415. Before, upload endpoints
// forwarded any body unread, so `images/edits` with a text/plain JSON body
// could name another user's file.

function send(t: LlmTest, user: TestUser, path: string, body: string | Buffer, contentType?: string): Promise<Response> {
  return fetch(`${t.gh.url}${path}`, {
    method: 'POST',
    headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${user.accessToken}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
    body,
  });
}

/** A multipart/form-data body written by hand, so its fields can be what no SDK would send. */
function form(boundary: string, parts: Array<{ name: string; value: string; filename?: string }>, eol = '\r\n'): Buffer {
  let text = '';
  for (const p of parts) {
    text += `--${boundary}${eol}Content-Disposition: form-data; name=${p.name}${p.filename ? `; filename="${p.filename}"` : ''}${eol}`;
    if (p.filename) text += `Content-Type: image/png${eol}`;
    text += `${eol}${p.value}${eol}`;
  }
  return Buffer.from(`${text}--${boundary}--${eol}`);
}

describe.each(engines())('upload endpoints take only their content types (%s)', (engine) => {
  const t = useLlmTest(engine);

  async function filesOfAliceAndBob(): Promise<{ alices: string; bobs: string }> {
    const alices = (await t.openai(t.alice).files.create({ file: await toFile(Buffer.from('alice'), 'a.png'), purpose: 'vision' })).id;
    const bobs = (await t.openai(t.bob).files.create({ file: await toFile(Buffer.from('bob'), 'b.png'), purpose: 'vision' })).id;
    t.fake.reset();
    return { alices, bobs };
  }

  it('images/edits as JSON is ownership-checked: another user\'s file_id is 404 and nothing goes upstream; one\'s own passes', async () => {
    const { alices, bobs } = await filesOfAliceAndBob();
    const steal = await send(t, t.bob, '/llm/openai/v1/images/edits', JSON.stringify({ model: 'gpt-image-1', prompt: 'x', images: [{ file_id: alices }] }), 'application/json');
    expect(steal.status).toBe(404);
    expect(((await steal.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const mask = await send(t, t.bob, '/llm/openai/v1/images/edits', JSON.stringify({ model: 'gpt-image-1', prompt: 'x', images: [{ file_id: bobs }], mask: { file_id: alices } }), 'application/json');
    expect(mask.status).toBe(404);
    expect(t.fake.requests).toHaveLength(0);
    const own = await send(t, t.bob, '/llm/openai/v1/images/edits', JSON.stringify({ model: 'gpt-image-1', prompt: 'x', images: [{ file_id: bobs }] }), 'application/json');
    expect(own.status).toBe(200);
    expect(t.fake.requests).toHaveLength(1);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain; charset=utf-8'],
    ['text/json', 'text/json'],
    ['a vendor +json type', 'application/vnd.openai+json'],
    ['a form-urlencoded body', 'application/x-www-form-urlencoded'],
    ['application/octet-stream', 'application/octet-stream'],
    ['multipart without a boundary', 'multipart/form-data'],
    ['multipart with two boundaries', 'multipart/form-data; boundary=aaa; boundary=bbb'],
    ['multipart/mixed', 'multipart/mixed; boundary=aaa'],
    ['no Content-Type at all', undefined],
  ])('a JSON body naming another user\'s file sent to images/edits as %s is 415, nothing upstream', async (_name, contentType) => {
    const { alices } = await filesOfAliceAndBob();
    const body = Buffer.from(JSON.stringify({ model: 'gpt-image-1', prompt: 'x', images: [{ file_id: alices }] }));
    const res = await send(t, t.bob, '/llm/openai/v1/images/edits', body, contentType);
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    expect(t.fake.requests).toHaveLength(0);
  });

  it.each([
    ['/v1/files'], ['/v1/audio/transcriptions'], ['/v1/images/variations'], ['/v1/uploads/upload_x/parts'],
  ])('%s refuses text/plain as well', async (path) => {
    const res = await send(t, t.bob, `/llm/openai${path}`, '{"file_id":"file-x"}', 'text/plain');
    expect(res.status).toBe(415);
    expect(t.fake.requests).toHaveLength(0);
  });

  it.each([
    ['file_id', '"file_id"'],
    ['bracket notation', '"images[0][file_id]"'],
    ['upper case', '"FILE_ID"'],
    ['a token, unquoted', 'file_id'],
    ['a quoted-pair escape', '"file\\_id"'],
    ['assistant_id', '"assistant_id"'],
    ['mask[file_id]', '"mask[file_id]"'],
  ])('a multipart field naming a resource (%s) is 400 multipart_field_not_allowed, and the upload never completes upstream', async (_name, name) => {
    const { alices } = await filesOfAliceAndBob();
    const body = form('gh-boundary-1', [
      { name: '"model"', value: 'gpt-image-1' },
      { name: '"image"', value: 'PNGDATA', filename: 'i.png' },
      { name, value: alices },
      { name: '"prompt"', value: 'x' },
    ]);
    const res = await send(t, t.bob, '/llm/openai/v1/images/edits', body, 'multipart/form-data; boundary=gh-boundary-1');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('multipart_field_not_allowed');
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a file_id field after a large file stops the upload mid-stream: the provider never gets a whole request', async () => {
    const { alices } = await filesOfAliceAndBob();
    const body = form('gh-boundary-big', [
      { name: '"image"', value: 'P'.repeat(3 * 1024 * 1024), filename: 'big.png' },
      { name: '"file_id"', value: alices },
    ]);
    const res = await send(t, t.bob, '/llm/openai/v1/images/edits', body, 'multipart/form-data; boundary=gh-boundary-big');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('multipart_field_not_allowed');
    // The upload had begun upstream (the file streams unbuffered) and was cut off before its end.
    await vi.waitFor(() => expect(t.fake.incomplete).toBe(1));
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a field hidden behind bare-LF line ends (for a lenient provider parser) is found all the same', async () => {
    const { alices } = await filesOfAliceAndBob();
    const body = form('gh-boundary-2', [{ name: '"prompt"', value: 'x' }, { name: '"file_id"', value: alices }], '\n');
    const res = await send(t, t.bob, '/llm/openai/v1/images/edits', body, 'multipart/form-data; boundary=gh-boundary-2');
    expect(res.status).toBe(400);
    expect(t.fake.requests).toHaveLength(0);
  });

  it('a part with two names, or two Content-Disposition headers, or name*= is refused', async () => {
    for (const header of [
      'Content-Disposition: form-data; name="prompt"; name="file_id"',
      'Content-Disposition: form-data; name="prompt"\r\nContent-Disposition: form-data; name="file_id"',
      'Content-Disposition: form-data; name*=utf-8\'\'file_id',
    ]) {
      const body = Buffer.from(`--b3\r\n${header}\r\n\r\nfile-x\r\n--b3--\r\n`);
      const res = await send(t, t.bob, '/llm/openai/v1/images/edits', body, 'multipart/form-data; boundary=b3');
      expect(res.status, header).toBe(400);
    }
    expect(t.fake.requests).toHaveLength(0);
  });

  it('the honest uploads through the openai SDK still pass byte for byte: files, transcriptions, image edits', async () => {
    const ai = t.openai(t.alice);
    const data = Buffer.alloc(200_000, 7);
    const file = await ai.files.create({ file: await toFile(data, 'big.bin'), purpose: 'assistants' });
    expect(file.bytes).toBe(data.length);
    const heard = await ai.audio.transcriptions.create({ file: await toFile(Buffer.from('RIFFaudio'), 'a.wav'), model: 'whisper-1' });
    expect(heard.text).toBe('heard 9 bytes');
    const edited = await ai.images.edit({ image: await toFile(Buffer.from('PNG'), 'i.png', { type: 'image/png' }), prompt: 'a hat', model: 'gpt-image-1' });
    expect(edited.data?.[0]?.b64_json).toBeTruthy();
    const sent = t.fake.requests.find((r) => r.url === '/openai/v1/files')!;
    expect(sent.body.includes(data)).toBe(true);
  });
});

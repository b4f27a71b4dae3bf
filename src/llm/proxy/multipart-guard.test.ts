import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardMultipart, namesResource } from './multipart-guard.js';

/** Runs a body through the guard in chunks of `size` bytes: what came out, or the error code. */
async function run(body: string, size: number): Promise<{ out?: string; code?: string }> {
  const bytes = Buffer.from(body, 'latin1');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: Buffer[] = [];
  try {
    for await (const chunk of guardMultipart(Readable.from(chunks), 'XyZ')) out.push(chunk as Buffer);
  } catch (error) {
    return { code: (error as { code?: string }).code };
  }
  return { out: Buffer.concat(out).toString('latin1') };
}

const part = (name: string, value: string) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;

describe('guardMultipart', () => {
  it('passes an honest form byte for byte, whatever the chunking', async () => {
    const body = `${part('purpose', 'assistants')}--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--Xy\r\n-XyZ-\r\n--XyZ--\r\n`;
    for (const size of [1, 2, 3, 7, 64, 10_000]) expect((await run(body, size)).out, `chunks of ${size}`).toBe(body);
  });

  it('refuses a field naming a resource, split across any chunk boundary', async () => {
    const body = `${part('model', 'm')}${part('images[0][file_id]', 'file-x')}--XyZ--\r\n`;
    for (const size of [1, 2, 5, 13, 10_000]) expect((await run(body, size)).code, `chunks of ${size}`).toBe('multipart_field_not_allowed');
  });

  it('reads parts after the closing delimiter and after bare LF line ends', async () => {
    expect((await run(`${part('model', 'm')}--XyZ--\r\n${part('file_id', 'x')}`, 4)).code).toBe('multipart_field_not_allowed');
    expect((await run('--XyZ\nContent-Disposition: form-data; name="thread_id"\n\nx\n--XyZ--\n', 3)).code).toBe('multipart_field_not_allowed');
  });

  it('refuses part headers without one name, and endless headers', async () => {
    expect((await run('--XyZ\r\n\r\nx\r\n--XyZ--\r\n', 4)).code).toBe('multipart_field_not_allowed');
    expect((await run(`--XyZ\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(20_000)}`, 1000)).code).toBe('multipart_field_not_allowed');
  });

  it('names a resource by any segment, in any case; leaves other names alone', () => {
    for (const name of ['file_id', 'FILE_ID', 'a[b][file_ids][]', 'tool_resources.vector_store_ids', 'previous_response_id', 'fileUri']) expect(namesResource(name), name).toBe(true);
    for (const name of ['file', 'image[]', 'purpose', 'model', 'prompt', 'mask', 'profile_identity']) expect(namesResource(name), name).toBe(false);
  });
});

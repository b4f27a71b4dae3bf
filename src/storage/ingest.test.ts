import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors/index.js';
import { BackgroundHash, HASH_BACKLOG_BYTES, SNIFF_BYTES, UploadInspector } from './ingest.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const tooLarge = () => new GatehouseError('storage_entity_too_large');

/** `data` through an inspector into a sink, in chunks of `chunk` bytes; the sink's copy of what passed. */
async function inspect(data: Buffer, chunk: number, maxBytes = Infinity): Promise<{ inspector: UploadInspector; passed: Buffer }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  const inspector = new UploadInspector(maxBytes, tooLarge);
  const seen: Buffer[] = [];
  await pipeline(Readable.from(parts), inspector, new Writable({ write(c: Buffer, _e, cb) { seen.push(c); cb(); } }));
  return { inspector, passed: Buffer.concat(seen) };
}

describe('upload inspector', () => {
  it('passes the bytes on unchanged; its ETag is their SHA-256, whatever the chunking', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    for (const chunk of [1, 4096, 64 * 1024, 1024 * 1024, data.length]) {
      const { inspector, passed } = await inspect(chunk === 1 ? data.subarray(0, 20_000) : data, chunk);
      const expected = chunk === 1 ? data.subarray(0, 20_000) : data;
      expect(passed.equals(expected)).toBe(true);
      expect(inspector.bytes).toBe(expected.length);
      expect(inspector.etag()).toBe(sha256(expected));
      expect(inspector.head().equals(expected.subarray(0, SNIFF_BYTES))).toBe(true);
    }
  });

  it('a digest asked for before the background slices ran hashes the rest then', async () => {
    const hash = new BackgroundHash();
    const data = randomBytes(2 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 65536) hash.add(data.subarray(i, i + 65536));
    // Synchronously, before any setImmediate: everything is still queued.
    expect(hash.digest()).toBe(sha256(data));
  });

  it('a body larger than the backlog is hashed as it arrives past it, in order', async () => {
    const hash = new BackgroundHash();
    const data = randomBytes(HASH_BACKLOG_BYTES * 2 + 12345);
    for (let i = 0; i < data.length; i += 100_000) hash.add(data.subarray(i, i + 100_000));
    expect(hash.digest()).toBe(sha256(data));
  });

  it('stops the body at the limit with the given error', async () => {
    await expect(inspect(randomBytes(200_000), 65536, 100_000)).rejects.toMatchObject({ code: 'storage_entity_too_large' });
  });
});

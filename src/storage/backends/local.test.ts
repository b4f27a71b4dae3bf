import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newBlobKey } from './keys.js';
import { createLocalBackend } from './local.js';
import type { BlobBackend } from './backend.js';

// The local backend's write: fresh temp file, fsync, rename, fsync of the folder, with the folder's
// handle opened beside the body and both files closed after put resolves (not awaited by it).

/** Files of this process open under `dir` (Linux: /proc/self/fd). */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try { return [readlinkSync(`/proc/self/fd/${fd}`)]; } catch { return []; }
  }).filter((target) => target.startsWith(dir));
}
const tempFiles = (dir: string) => readdirSync(join(dir, 'tmp')).filter((n) => n.endsWith('.part'));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('local disk backend', () => {
  let dir: string;
  let backend: BlobBackend;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-local-backend-'));
    backend = createLocalBackend({ dir });
  });
  afterEach(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the bytes whole under the key, mode 0600, leaving no temp file and no open file behind', async () => {
    const key = newBlobKey();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await backend.put(key, Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]), 'application/octet-stream');
    expect((await readAll(await backend.get(key))).equals(bytes)).toBe(true);
    const file = join(dir, 'objects', key.slice(0, 2), key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(tempFiles(dir)).toEqual([]);
    // The temp file's and the folder's handles are closed after put resolves, not leaked.
    await expect.poll(() => openUnder(dir), { timeout: 5_000 }).toEqual([]);
  });

  it('a body that arrives faster than the disk (queued, then written in writevs of at most 256 KiB) is stored whole and in order', async () => {
    const key = newBlobKey();
    const bytes = randomBytes(2 * 1024 * 1024 + 333);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 17 * 1024) chunks.push(bytes.subarray(i, i + 17 * 1024));
    // All at once, before the temp file is even open: the queue holds many chunks for one _writev.
    const body = new Readable({ read() {} });
    for (const chunk of chunks) body.push(chunk);
    body.push(null);
    await backend.put(key, body, 'application/octet-stream');
    expect((await readAll(await backend.get(key))).equals(bytes)).toBe(true);
  });

  it('a body that fails stores nothing under the key, removes its temp file and closes its files', async () => {
    const key = newBlobKey();
    const body = new Readable({ read() {} });
    body.push(randomBytes(64 * 1024));
    setTimeout(() => body.destroy(new Error('client went away')), 20);
    await expect(backend.put(key, body, 'application/octet-stream')).rejects.toThrow('client went away');
    await expect(backend.get(key)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(tempFiles(dir)).toEqual([]);
    await expect.poll(() => openUnder(dir), { timeout: 5_000 }).toEqual([]);
  });

  it('a body that fails before its file is even open is an error of put, not an unhandled one', async () => {
    for (let i = 0; i < 20; i++) {
      const key = newBlobKey();
      const body = new Readable({ read() {} });
      setImmediate(() => body.destroy(new Error('client went away at once')));
      await expect(backend.put(key, body, 'application/octet-stream')).rejects.toThrow('client went away at once');
      await expect(backend.get(key)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(tempFiles(dir)).toEqual([]);
    await expect.poll(() => openUnder(dir), { timeout: 5_000 }).toEqual([]);
  });

  it('writes into a shard folder made earlier by this process even after it was removed behind its back', async () => {
    const first = newBlobKey();
    await backend.put(first, Readable.from([Buffer.from('one')]), 'text/plain');
    rmSync(join(dir, 'objects', first.slice(0, 2)), { recursive: true, force: true });
    // Same two-letter shard as `first`, whose folder this process believes it has made.
    const second = first.slice(0, 2) + newBlobKey().slice(2);
    await backend.put(second, Readable.from([Buffer.from('two')]), 'text/plain');
    expect(await readFile(join(dir, 'objects', second.slice(0, 2), second), 'utf8')).toBe('two');
  });

  it('makes every shard folder in the background after the first write, once; close() stops it', async () => {
    await backend.put(newBlobKey(), Readable.from([Buffer.from('x')]), 'text/plain');
    const shards = () => readdirSync(join(dir, 'objects'));
    await expect.poll(() => shards().length, { timeout: 30_000, interval: 100 }).toBe(1024);
    expect(shards().every((name) => /^[a-z2-7]{2}$/.test(name))).toBe(true);

    // Another instance on a fresh folder, closed right after its first write: nothing is made after close().
    const other = mkdtempSync(join(tmpdir(), 'gh-local-backend-'));
    try {
      const second = createLocalBackend({ dir: other });
      await second.put(newBlobKey(), Readable.from([Buffer.from('y')]), 'text/plain');
      await second.close();
      const made = readdirSync(join(other, 'objects')).length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(readdirSync(join(other, 'objects')).length).toBe(made);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a copy is whole under its new key', async () => {
    const key = newBlobKey();
    const bytes = randomBytes(200_000);
    await backend.put(key, Readable.from([bytes]), 'application/octet-stream');
    const copy = newBlobKey();
    await backend.copy(key, copy);
    expect((await readAll(await backend.get(copy))).equals(bytes)).toBe(true);
  });
});

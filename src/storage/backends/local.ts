import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, fsync, WriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import type { BlobBackend, ByteRange } from './backend.js';
import { assertBlobKey, keyPrefixes } from './keys.js';

// Local disk: `<dir>/objects/<k0k1>/<key>` for stored bytes, `<dir>/tmp/` for writes in progress.
// A write goes to a fresh temp file (O_EXCL, 0600), is fsynced, then renamed into place: rename is
// atomic on one filesystem, so a reader (or a restart after kill -9 mid-upload) sees either no file
// or the whole one, never part of it. Temp files a crash left behind are removed at start.

/**
 * Bytes a file stream may hold ahead: queued for a write while the previous one is in the kernel,
 * or read ahead of the socket for a download. The defaults (16 KiB to write, 64 KiB to read) made
 * an upload's every 64 KiB socket read wait for its own write (the body did not flow while the disk
 * worked) and a download one read and one socket write per 64 KiB. With a MiB, reads go on during a
 * write, queued chunks go down in few writevs, and a download reads in MiB pieces (measured with
 * Gatehouse against itself: server CPU per 100 MiB upload -30%, per 1 MiB download -35 to -45%).
 * Memory stays bounded by this per transfer, a slow reader included.
 */
const IO_CHUNK_BYTES = 1024 * 1024;
/**
 * The most one writev hands the kernel. A 1 MiB upload's body arrives while its temp file is being
 * opened, so the whole MiB went down as one writev, and the kernel (Linux 6.18, ext4) copied that
 * into the page cache ~20 times slower than the same bytes in 256 KiB writes: perf put 22-31% of
 * the server's CPU in copy_folio_from_iter_atomic (~2.5 ms per 1 MiB upload), 2-3% when split.
 * Lowering the queue itself to 256 KiB did as well for 1 MiB uploads but cost 100 MiB uploads ~18%
 * more CPU (the body paused and resumed four times as often), so the queue stays 1 MiB and only
 * the writev is split.
 */
const WRITEV_BYTES = 256 * 1024;

// The typings give WriteStream only Writable's constructor; Node's takes (path, options), as
// createWriteStream calls it.
const FileWriteStream = WriteStream as unknown as new (...args: Parameters<typeof createWriteStream>) => WriteStream;

/** A file write stream whose writevs carry at most WRITEV_BYTES (one after another, in order). */
class SplitWritevStream extends FileWriteStream {
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    let next = 0;
    const writeGroup = (error?: Error | null): void => {
      if (error || next >= chunks.length) { callback(error); return; }
      const group: typeof chunks = [];
      let bytes = 0;
      while (next < chunks.length && (group.length === 0 || bytes + chunks[next]!.chunk.length <= WRITEV_BYTES)) {
        bytes += chunks[next]!.chunk.length;
        group.push(chunks[next++]!);
      }
      super._writev!(group, writeGroup);
    };
    writeGroup();
  }
}

const fsyncFile = promisify(fsync);

export interface LocalBackendOptions {
  dir: string;
}

export function createLocalBackend({ dir }: LocalBackendOptions): BlobBackend {
  const objects = join(dir, 'objects');
  const tmp = join(dir, 'tmp');
  const pathOf = (key: string) => join(objects, assertBlobKey(key).slice(0, 2), key);
  // Made on the first write, so an instance that stores no file leaves no folder behind.
  let ready: Promise<void> | null = null;
  const prepared = () => (ready ??= (async () => {
    await mkdir(objects, { recursive: true, mode: 0o700 });
    await mkdir(tmp, { recursive: true, mode: 0o700 });
  })());
  const tmpCleared = clearTmp(tmp);

  // Shard folders this process has made or found: the first write into one makes it beside the
  // body's write, so no later write pays for a failed rename, a mkdir and a second rename.
  const folders = new Map<string, Promise<void>>();
  const folderOf = (key: string) => join(objects, key.slice(0, 2));
  function ensureFolder(folder: string): Promise<void> {
    let made = folders.get(folder);
    if (!made) {
      made = mkdir(folder, { recursive: true, mode: 0o700 }).then(() => undefined);
      folders.set(folder, made);
      made.catch(() => folders.delete(folder));
    }
    return made;
  }

  // The 1,024 shard folders, made one after another in the background from the first write on:
  // otherwise each of a fresh instance's first few thousand uploads made its folder (an inode to
  // allocate, ~0.5 ms of kernel CPU where many files come and go; on a 1 MiB upload, the largest
  // cost after the bytes themselves), and a folder is now made once, off any request's path.
  // Then the folder holding them is synced once, so that the folders themselves survive a power cut.
  let closing = false;
  let shardsMade: Promise<void> | null = null;
  const makeShards = () => (shardsMade ??= (async () => {
    const present = new Set(await readdir(objects).catch(() => [] as string[]));
    const prefixes = keyPrefixes();
    for (const prefix of prefixes) if (present.has(prefix) && !folders.has(join(objects, prefix))) folders.set(join(objects, prefix), Promise.resolve());
    const missing = prefixes.filter((prefix) => !present.has(prefix));
    for (const prefix of missing) {
      if (closing) return;
      await ensureFolder(join(objects, prefix)).catch(() => undefined);
    }
    if (missing.length > 0 && !closing) await syncFolder(objects).catch(() => undefined);
  })());

  /** Renames `from` to the key's path; a shard folder removed behind our back is made again. */
  async function renameInto(from: string, key: string): Promise<void> {
    await rename(from, pathOf(key)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      folders.delete(folderOf(key));
      await ensureFolder(folderOf(key));
      await rename(from, pathOf(key));
    });
  }

  /** The rename itself must survive a power cut: fsync the folder that now names the file. */
  async function syncFolder(folder: string): Promise<void> {
    const handle = await open(folder, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  }

  async function commit(from: string, key: string): Promise<void> {
    await ensureFolder(folderOf(key));
    await renameInto(from, key);
    await syncFolder(folderOf(key));
  }

  return {
    kind: 'local',
    async put(key, body) {
      assertBlobKey(key);
      // Until the pipeline below listens, a failing body (the client went away) must not be an
      // unhandled error; the pipeline then reports it, as the stream's error state.
      const unheard = () => undefined;
      body.on('error', unheard);
      try {
        await prepared();
      } catch (error) {
        body.destroy();
        throw error;
      } finally {
        body.off('error', unheard);
      }
      void makeShards();
      const temp = join(tmp, `${randomBytes(12).toString('hex')}.part`);
      const folder = folderOf(key);
      // The folder's handle (for the fsync after the rename) is opened while the body is written:
      // only the steps that must follow each other wait for each other (bytes, fsync, rename, fsync).
      const folderHandle = ensureFolder(folder).then(() => open(folder, 'r')).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        folders.delete(folder); // removed behind our back: made again
        await ensureFolder(folder);
        return open(folder, 'r');
      });
      folderHandle.catch(() => undefined);
      // O_EXCL and 0600. Piped at once (not after an awaited open), so that a body failing early
      // is the pipeline's error, not an unhandled one. autoClose false keeps the file open after
      // the last write, for the fsync; destroy() closes it (pipeline's on failure, ours after).
      const out = new SplitWritevStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: IO_CHUNK_BYTES, autoClose: false });
      try {
        await pipeline(body, out);
        // The bytes are on disk before they get a name, and the name before put resolves (and the
        // object's row points at it). Closing the files waits for neither: both are synced.
        await fsyncFile((out as unknown as { fd: number }).fd); // the typings omit fd
        await renameInto(temp, key);
        await (await folderHandle).sync();
      } catch (error) {
        // Closed first: an open still under way would otherwise make the file after the unlink.
        if (!out.closed) await new Promise<void>((resolve) => { out.once('close', () => resolve()); out.destroy(); });
        await unlink(temp).catch(() => undefined);
        throw error;
      } finally {
        out.destroy();
        void folderHandle.then((handle) => handle.close()).catch(() => undefined);
      }
    },
    async get(key, range?: ByteRange) {
      const stream = createReadStream(pathOf(key), { highWaterMark: IO_CHUNK_BYTES, ...(range ? { start: range.start, end: range.end } : {}) });
      // Surface a missing file as a rejection here, not as a stream error after headers went out.
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      return stream as Readable;
    },
    async copy(fromKey, toKey) {
      assertBlobKey(toKey);
      await prepared();
      const temp = join(tmp, `${randomBytes(12).toString('hex')}.part`);
      try {
        await copyFile(pathOf(fromKey), temp);
        const handle = await open(temp, 'r+');
        try { await handle.sync(); } finally { await handle.close(); }
        await commit(temp, toKey);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async close() {
      closing = true;
      await Promise.all([tmpCleared, shardsMade]);
    },
  };
}

/** ms after which a temp file is surely not a write in progress (of another instance on the same dir). */
const STALE_TEMP_MS = 24 * 3600_000;

/** Temp files of writes a crash interrupted: never committed, so never visible; removed at start. */
async function clearTmp(tmp: string): Promise<void> {
  const names = await readdir(tmp).catch(() => [] as string[]);
  const before = Date.now() - STALE_TEMP_MS;
  await Promise.all(names.filter((n) => n.endsWith('.part')).map(async (n) => {
    const info = await stat(join(tmp, n)).catch(() => null);
    if (info && info.mtimeMs < before) await rm(join(tmp, n), { force: true });
  }));
}

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { GatehouseError } from '../errors/index.js';

// The one pass over an upload's bytes on their way to the backend: counts them (and stops the
// upload the moment it passes the limit, so an over-size body is never read whole), hashes them for
// the ETag, and keeps the first bytes for content sniffing. Nothing else buffers the body.
//
// The ETag is the SHA-256 of the bytes, not MD5 as in S3: MD5 collisions are cheap to make, so an
// uploader could give two different files one ETag and a cache revalidating with If-None-Match (or
// anything that treats "same ETag" as "same file") would keep the other one. SHA-256 is also the
// cheaper pass where the CPU has SHA instructions (x86 since 2017-19, ARMv8): MD5 was the largest
// share of an upload's CPU time (bench/storage.ts). A client can check an upload end to end against
// its own SHA-256 of the file.

/** file-type reads at most this many bytes to recognise a format. */
export const SNIFF_BYTES = 4100;

/**
 * Bytes the hash may fall behind the body before a chunk is hashed on arrival: bounds what a slow
 * hash holds on to beyond what the backend's write queue holds anyway.
 */
export const HASH_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Hashed per turn of the event loop, so that I/O callbacks (the file's writes, fsync) run between slices. */
const HASH_SLICE_BYTES = 256 * 1024;
/**
 * Until this much waits (or the body has ended), nothing is hashed: while the body arrives the
 * thread is busy reading it, and a slice would only delay the next read. A small body is hashed
 * whole after its last byte, while its file is synced; a large one keeps between this and
 * HASH_BACKLOG_BYTES behind.
 */
const HASH_EAGER_BYTES = 1024 * 1024;

/**
 * SHA-256 that runs behind the bytes instead of in their way. Hashing a chunk where it arrives put
 * ~0.9 ms per MiB (SHA-NI) between the socket and the disk: the body's last byte reached the file
 * later, and the fsync started later, by the whole hash. Here chunks pass on at once and are hashed
 * later, in slices on later turns of the event loop, while the thread would otherwise wait for the
 * disk (the fsync, the rename); what is left when the digest is asked for is hashed then.
 * The chunks are the stream's own buffers (nothing writes to them once read), kept by reference.
 */
export class BackgroundHash {
  private readonly hash: Hash = createHash('sha256');
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;
  private stopped = false;

  add(chunk: Buffer): void {
    if (this.queued + chunk.length > HASH_BACKLOG_BYTES) {
      this.hashQueued(Infinity);
      this.hash.update(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HASH_EAGER_BYTES) this.schedule();
  }

  /** No more bytes are coming: hash what waits, in slices. */
  end(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  /** The hex digest of everything added; hashes what is still queued first. */
  digest(): string {
    this.hashQueued(Infinity);
    this.stopped = true;
    return this.hash.digest('hex');
  }

  /** Drops what is queued (a failed upload): nothing more is hashed. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.queued = 0;
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    this.hashQueued(HASH_SLICE_BYTES);
    this.schedule();
  };

  private hashQueued(budget: number): void {
    let done = 0;
    let i = 0;
    while (i < this.queue.length && done < budget) {
      const chunk = this.queue[i++]!;
      this.hash.update(chunk);
      done += chunk.length;
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i);
    this.queued -= done;
  }
}

export class UploadInspector extends Transform {
  bytes = 0;
  private readonly hash = new BackgroundHash();
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly maxBytes: number, private readonly tooLarge: () => GatehouseError) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(this.tooLarge());
      return;
    }
    this.hash.add(chunk);
    if (this.headLength < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headLength);
      this.headChunks.push(Buffer.from(part));
      this.headLength += part.length;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.hash.end();
    callback();
  }

  // A stream is destroyed after a clean end too (autoDestroy): only a failure drops the hash.
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.hash.stop();
    callback(error);
  }

  /** The SHA-256 (hex) of everything that passed: the object's ETag. */
  etag(): string {
    return this.hash.digest();
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { GatehouseError } from '../errors/index.js';
import { openHashSession, type HashSession } from './hash-worker.js';

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
//
// The hashing itself runs on a worker thread (hash-worker.ts), fed with copies of the bytes in
// batches of BATCH_BYTES; a body shorter than one batch is hashed here at its end instead, which
// costs less than the trip to the worker. The digest is asked for when the body ends, so it is
// computed while the backend makes the file durable, and read after.

/** file-type reads at most this many bytes to recognise a format. */
export const SNIFF_BYTES = 4100;

/** Bytes copied per message to the hash worker; also the most a body is hashed in this thread. */
export const BATCH_BYTES = 128 * 1024;

export class UploadInspector extends Transform {
  bytes = 0;
  private batch: Buffer | null = null;
  private batchLength = 0;
  private session: HashSession | null = null;
  private digest: Promise<string> | null = null;
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
    this.collect(chunk);
    if (this.headLength < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headLength);
      this.headChunks.push(Buffer.from(part));
      this.headLength += part.length;
    }
    // A worker that has fallen MAX_IN_FLIGHT_BYTES behind holds the body back until it catches up.
    const room = this.session?.room();
    if (room) room.then(() => callback(null, chunk), callback);
    else callback(null, chunk);
  }

  /** Copies `chunk` into the current batch; a full batch goes to the worker (its memory with it). */
  private collect(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      // Not from Buffer's shared pool: the batch's whole ArrayBuffer is handed to the worker.
      this.batch ??= Buffer.allocUnsafeSlow(BATCH_BYTES);
      const copied = chunk.copy(this.batch, this.batchLength, offset);
      this.batchLength += copied;
      offset += copied;
      if (this.batchLength === BATCH_BYTES) {
        (this.session ??= openHashSession()).update(this.batch);
        this.batch = null;
        this.batchLength = 0;
      }
    }
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.batch?.subarray(0, this.batchLength) ?? Buffer.alloc(0);
    this.batch = null;
    if (this.session) {
      if (rest.length > 0) this.session.update(rest);
      this.digest = this.session.digest();
    } else {
      this.digest = Promise.resolve(createHash('sha256').update(rest).digest('hex'));
    }
    // Read by etag() when the upload gets that far; a failure in between must not go unhandled.
    this.digest.catch(() => undefined);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.digest) this.session?.drop();
    callback(error);
  }

  /** The SHA-256 (hex) of everything that passed: the object's ETag. Once the body has ended. */
  etag(): Promise<string> {
    if (!this.digest) throw new Error('storage: etag() before the body ended');
    return this.digest;
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

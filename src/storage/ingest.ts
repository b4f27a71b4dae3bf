import { createHash } from 'node:crypto';
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

export class UploadInspector extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
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
    this.hash.update(chunk);
    if (this.headLength < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headLength);
      this.headChunks.push(Buffer.from(part));
      this.headLength += part.length;
    }
    callback(null, chunk);
  }

  /** The SHA-256 (hex) of everything that passed: the object's ETag. */
  etag(): string {
    return this.hash.digest('hex');
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

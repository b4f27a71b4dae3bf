import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { GatehouseError } from '../errors/index.js';

// The one pass over an upload's bytes on their way to the backend: counts them (and stops the
// upload the moment it passes the limit, so an over-size body is never read whole), hashes them for
// the ETag, and keeps the first bytes for content sniffing. Nothing else buffers the body.

/** file-type reads at most this many bytes to recognise a format. */
export const SNIFF_BYTES = 4100;

export class UploadInspector extends Transform {
  bytes = 0;
  private readonly hash = createHash('md5');
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

  /** The MD5 of everything that passed, as S3 and storage-api report it in ETags. */
  etag(): string {
    return this.hash.digest('hex');
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

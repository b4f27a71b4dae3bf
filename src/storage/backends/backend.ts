import type { Readable } from 'node:stream';

// Where object bytes live. Keys are made by the server (newBlobKey), never from a client's name.
// A write is all or nothing: until `put` resolves, nothing is stored under the key, and a failed or
// aborted body leaves nothing behind.

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobBackend {
  readonly kind: 'local' | 's3';
  /** Streams `body` under `key`; rejects (storing nothing) if the body fails or is aborted. */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Removing a key that is already gone is not an error. */
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

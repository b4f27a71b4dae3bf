import { randomBytes } from 'node:crypto';
import { encodeAssociatedData, open, seal } from './aead.js';
import { formatWrappedKey, parseWrappedKey } from './sealed-format.js';
import { randomToken } from './hashing.js';

export const DATA_KEY_BYTES = 32;

export function newDataKeyId(): string {
  // 128 random bits: ids from concurrent instances never collide.
  return `dk_${randomToken(16)}`;
}

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/**
 * The wrapping authenticates the key's own id and scope, so a wrapped value
 * copied onto another row (another scope, or another id that ciphertexts
 * reference) fails to unwrap instead of silently serving that row.
 */
function wrapAssociatedData(id: string, scope: string): Buffer {
  return encodeAssociatedData(['gatehouse-data-key', 'wk1', id, scope]);
}

export function wrapDataKey(masterKey: Buffer, id: string, scope: string, dataKey: Buffer): string {
  return formatWrappedKey(seal(masterKey, dataKey, wrapAssociatedData(id, scope)));
}

/**
 * `id` and `scope` are what the caller looked up, not what the row claims, so
 * a row whose columns were edited fails authentication. Undefined on any
 * failure: malformed value, wrong master key, or altered/moved row.
 */
export function unwrapDataKey(masterKey: Buffer, id: string, scope: string, wrapped: string): Buffer | undefined {
  const sealed = parseWrappedKey(wrapped);
  if (typeof sealed === 'string') return undefined;
  const dataKey = open(masterKey, sealed, wrapAssociatedData(id, scope));
  return dataKey?.length === DATA_KEY_BYTES ? dataKey : undefined;
}

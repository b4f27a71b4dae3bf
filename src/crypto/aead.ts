import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// AES-256-GCM with a random 96-bit IV per message. Random IVs are safe for
// up to 2^32 messages per key (NIST SP 800-38D §8.3); data keys are per
// project environment and protect low-volume secrets, far below that.
const ALGORITHM = 'aes-256-gcm';
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Canonical encoding of the associated data: field count, then each field as
 * a 4-byte big-endian byte length and its UTF-8 bytes. Plain concatenation
 * would make ('a', 'bc') and ('ab', 'c') authenticate identically, letting a
 * ciphertext be replayed under a different scope/context split.
 */
export function encodeAssociatedData(fields: readonly string[]): Buffer {
  const parts: Buffer[] = [u32(fields.length)];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

export function seal(key: Buffer, plaintext: Uint8Array, associatedData: Buffer): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Returns undefined when authentication fails (wrong key, altered bytes or
 * other associated data), so callers raise their own typed error. Node's
 * error here carries no detail worth keeping.
 */
export function open(key: Buffer, sealed: Sealed, associatedData: Buffer): Buffer | undefined {
  // authTagLength pins the tag to 16 bytes: without it Node accepts truncated
  // tags, which weakens forgery resistance.
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url: Node's decoder skips invalid characters and ignores
 * trailing bits, so several strings would decode to the same bytes. Only the
 * canonical encoding is accepted, so every ciphertext has exactly one spelling.
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

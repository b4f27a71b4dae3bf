import { createHash, randomBytes } from 'node:crypto';

export const MASTER_KEY_BYTES = 32;

const HEX_64 = /^[0-9a-fA-F]{64}$/;
// 32 bytes = 43 base64 characters (+ one '=' of padding). Either alphabet,
// padding optional, but not mixed alphabets.
const BASE64_32 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL_32 = /^[A-Za-z0-9_-]{43}=?$/;

const EXPECTED =
  'master key must be 32 bytes encoded as base64 (44 chars), base64url (43 chars) or hex (64 chars)';

/**
 * Parses the master key from config. Throws TypeError (a start-up
 * misconfiguration) that describes the expected shape but never echoes the
 * value: the value may be a real key pasted in the wrong place.
 */
export function parseMasterKey(text: string): Buffer {
  if (typeof text !== 'string') throw new TypeError(`${EXPECTED}; got a non-string value`);
  // Surrounding whitespace is tolerated: files and env values often end in '\n'.
  const trimmed = text.trim();
  let key: Buffer;
  if (HEX_64.test(trimmed)) {
    key = Buffer.from(trimmed, 'hex');
  } else if (BASE64_32.test(trimmed) || BASE64URL_32.test(trimmed)) {
    const urlForm = trimmed.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    key = Buffer.from(urlForm, 'base64url');
    // 43 characters carry 258 bits; the last 2 must be zero, or two different
    // strings would name the same key (and a typo there would go unnoticed).
    if (key.toString('base64url') !== urlForm) {
      throw new TypeError(`${EXPECTED}; got a non-canonical base64 value`);
    }
  } else {
    throw new TypeError(`${EXPECTED}; got ${trimmed.length} characters`);
  }
  if (key.length !== MASTER_KEY_BYTES) throw new TypeError(EXPECTED);
  // An all-zero key is a placeholder ('0000…') left in a config file, not a secret.
  if (key.every((byte) => byte === 0)) {
    throw new TypeError('master key is all zeros (a placeholder); generate a random one, e.g. openssl rand -base64 32');
  }
  return key;
}

/** Throws TypeError unless `key` is a 32-byte Buffer/Uint8Array. */
export function assertMasterKey(key: unknown, what = 'master key'): asserts key is Buffer {
  if (!(key instanceof Uint8Array) || key.length !== MASTER_KEY_BYTES) {
    throw new TypeError(`${what} must be a ${MASTER_KEY_BYTES}-byte Buffer (use parseMasterKey)`);
  }
}

/**
 * A public identifier for a master key, stored beside every wrapped data key
 * so the keyring knows which configured key unwraps it. 64 bits of a
 * domain-separated SHA-256 of a 256-bit random key reveal nothing usable
 * about the key, so ids may appear in logs and error messages.
 */
export function masterKeyId(key: Buffer): string {
  assertMasterKey(key);
  const digest = createHash('sha256')
    .update('gatehouse-master-key-id\0', 'utf8')
    .update(key)
    .digest('hex');
  return `mk_${digest.slice(0, 16)}`;
}

/** A fresh master key as base64url (43 chars), ready for a config file. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64url');
}

import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateMasterKey, masterKeyId, parseMasterKey } from './master-key.js';

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it('accepts base64 (44), base64url (43) and hex (64), with surrounding whitespace', () => {
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64url'))).toEqual(key);
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseMasterKey(`  ${key.toString('base64')}\n`)).toEqual(key);
    expect(parseMasterKey(key.toString('base64').replace(/=$/, ''))).toEqual(key);
  });

  it('accepts what generateMasterKey produces, and each call is a new key', () => {
    const a = generateMasterKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseMasterKey(a)).toHaveLength(32);
    expect(generateMasterKey()).not.toBe(a);
  });

  it('rejects other lengths, alphabets and non-canonical forms with a TypeError that never echoes the input', () => {
    const short = randomBytes(16);
    const long = randomBytes(48);
    const canonical = key.toString('base64url');
    // The 43rd character carries 2 unused bits; setting one names the same bytes.
    const nonCanonical = canonical.slice(0, -1) + BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(canonical.at(-1)!) | 1];
    const bad = [
      '',
      'changeme',
      short.toString('base64'),
      short.toString('hex'),
      long.toString('base64'),
      `${key.toString('hex')}00`,
      key.toString('hex').slice(0, 63) + 'g',
      key.toString('base64').slice(0, 42) + '-/', // mixed alphabets
      nonCanonical,
      `${canonical}==`,
      '00'.repeat(32), // an all-zero placeholder
    ];
    for (const value of bad) {
      let error: unknown;
      try {
        parseMasterKey(value);
      } catch (caught) {
        error = caught;
      }
      expect(error, `accepted ${JSON.stringify(value)}`).toBeInstanceOf(TypeError);
      const message = (error as TypeError).message;
      expect(message).toMatch(/base64|zeros/);
      if (value.length > 8) expect(message).not.toContain(value.slice(0, 8));
    }
  });
});

describe('masterKeyId', () => {
  it('is mk_ + 16 hex chars of a domain-separated SHA-256, stable per key', () => {
    const key = Buffer.alloc(32, 7);
    const id = masterKeyId(key);
    expect(id).toMatch(/^mk_[0-9a-f]{16}$/);
    expect(masterKeyId(Buffer.alloc(32, 7))).toBe(id);
    expect(masterKeyId(Buffer.alloc(32, 8))).not.toBe(id);
    const digest = createHash('sha256').update('gatehouse-master-key-id\0').update(key).digest('hex');
    expect(id).toBe(`mk_${digest.slice(0, 16)}`);
  });

  it('rejects anything but 32 bytes', () => {
    expect(() => masterKeyId(Buffer.alloc(31))).toThrow(TypeError);
  });
});

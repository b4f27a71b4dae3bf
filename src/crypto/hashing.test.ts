import { describe, expect, it } from 'vitest';
import { randomToken, sha256Hex, timingSafeEqualString } from './hashing.js';

describe('hashing helpers', () => {
  it('sha256Hex matches the known vector', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('timingSafeEqualString compares strings of any length without throwing', () => {
    expect(timingSafeEqualString('secret-token', 'secret-token')).toBe(true);
    expect(timingSafeEqualString('secret-token', 'secret-tokeN')).toBe(false);
    expect(timingSafeEqualString('secret-token', 'secret')).toBe(false);
    expect(timingSafeEqualString('', '')).toBe(true);
    expect(timingSafeEqualString('', 'x')).toBe(false);
    expect(timingSafeEqualString('é', 'e\u0301')).toBe(false);
  });

  it('randomToken returns base64url of the requested byte count', () => {
    const token = randomToken(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(randomToken(32)).not.toBe(token);
    expect(() => randomToken(0)).toThrow(TypeError);
    expect(() => randomToken(1.5)).toThrow(TypeError);
  });
});

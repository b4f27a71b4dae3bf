import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, parseApiKey } from './format.js';

const PROJECT = 'abcdefghijklmnop';

describe('API key format', () => {
  it('names its kind, environment and project', () => {
    const { key } = generateApiKey('publishable', 'prod', PROJECT);
    expect(key.startsWith(`pk_prod_${PROJECT}_`)).toBe(true);
    expect(parseApiKey(key)).toEqual({ kind: 'publishable', environment: 'prod', projectId: PROJECT });
    expect(parseApiKey(generateApiKey('secret', 'staging', PROJECT).key)).toEqual({ kind: 'secret', environment: 'staging', projectId: PROJECT });
  });

  it('carries at least 192 random bits: 43 base62 characters, all distinct across keys', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey('secret', 'dev', PROJECT).key);
    expect(new Set(keys).size).toBe(200);
    const secret = keys[0]!.split('_')[3]!.slice(0, 43);
    expect(secret).toMatch(/^[0-9A-Za-z]{43}$/);
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(192);
    // Every base62 character shows up somewhere: no truncated alphabet.
    expect(new Set(keys.join('').split('_').join('')).size).toBeGreaterThanOrEqual(62);
  });

  it('rejects a one-character typo by checksum, before any lookup', () => {
    const { key } = generateApiKey('publishable', 'dev', PROJECT);
    const i = key.length - 20;
    const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(parseApiKey(typo)).toBe('checksum');
    const swappedChecksum = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
    expect(parseApiKey(swappedChecksum)).toBe('checksum');
  });

  it('rejects a key whose environment or project was edited (checksum covers them)', () => {
    const { key } = generateApiKey('publishable', 'dev', PROJECT);
    expect(parseApiKey(key.replace('pk_dev_', 'pk_prod_'))).toBe('checksum');
    expect(parseApiKey(key.replace(`_${PROJECT}_`, '_bbcdefghijklmnop_'))).toBe('checksum');
    expect(parseApiKey(key.replace('pk_', 'sk_'))).toBe('checksum');
  });

  it.each([
    ['empty', ''],
    ['wrong prefix', 'xk_dev_abcdefghijklmnop_' + 'a'.repeat(49)],
    ['unknown environment', 'pk_test_abcdefghijklmnop_' + 'a'.repeat(49)],
    ['too short', 'pk_dev_abcdefghijklmnop_abc'],
    ['too long', generateApiKey('publishable', 'dev', PROJECT).key + 'x'],
    ['bad project id', 'pk_dev_ABCDEFGHIJKLMNOP_' + 'a'.repeat(49)],
    ['whitespace', ' ' + generateApiKey('publishable', 'dev', PROJECT).key],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'],
  ])('rejects a malformed key: %s', (_name, key) => {
    expect(parseApiKey(key)).toBe('malformed');
  });

  it('hashes with SHA-256; the hash reveals nothing of the key', () => {
    const g = generateApiKey('secret', 'dev', PROJECT);
    expect(g.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(g.hash).toBe(hashApiKey(g.key));
    expect(g.hash).not.toContain(g.key.slice(24, 40));
    expect(g.prefix).toBe('sk_dev_');
    expect(g.lastFour).toBe(g.key.slice(-4));
  });

  it('refuses to mint keys for a bad project id or environment', () => {
    expect(() => generateApiKey('secret', 'dev', 'UPPER')).toThrow(TypeError);
    expect(() => generateApiKey('secret', 'qa' as 'dev', PROJECT)).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import { checkHeader, decodeUnverified } from './header-checks.js';
import { TokenRejected } from './token-rejected.js';

const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof TokenRejected ? error.reason : 'other';
  }
  return 'accepted';
};

describe('RFC 8725 header checks', () => {
  it('the issuer\'s allowlist decides the algorithm, never the token', () => {
    expect(reason(() => checkHeader({ alg: 'ES256' }, ['ES256']))).toBe('accepted');
    expect(reason(() => checkHeader({ alg: 'HS256' }, ['ES256']))).toBe('alg_not_allowed');
    expect(reason(() => checkHeader({ alg: 'none' }, ['ES256', 'none']))).toBe('alg_none');
    expect(reason(() => checkHeader({}, ['ES256']))).toBe('malformed');
  });

  it('refuses headers that carry or point at keys, and any crit', () => {
    for (const h of ['jku', 'x5u', 'jwk', 'x5c']) expect(reason(() => checkHeader({ alg: 'ES256', [h]: 'x' }, ['ES256']))).toBe('forbidden_header');
    expect(reason(() => checkHeader({ alg: 'ES256', crit: ['b64'] }, ['ES256']))).toBe('unknown_crit');
  });

  it('refuses a typ that is not a JWT', () => {
    expect(reason(() => checkHeader({ alg: 'ES256', typ: 'dpop+jwt' }, ['ES256']))).toBe('malformed');
    expect(reason(() => checkHeader({ alg: 'ES256', typ: 'JWT' }, ['ES256']))).toBe('accepted');
  });

  it('refuses what is not a three-part compact JWS, or too long', () => {
    expect(reason(() => decodeUnverified('a.b'))).toBe('malformed');
    expect(reason(() => decodeUnverified('a.b.c.d.e'))).toBe('malformed');
    expect(reason(() => decodeUnverified('x'.repeat(20_000) + '.a.b'))).toBe('malformed');
    expect(reason(() => decodeUnverified('!!.!!.!!'))).toBe('malformed');
  });
});

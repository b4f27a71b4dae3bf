import { describe, expect, it } from 'vitest';
import { checkHeader, decodeUnverified } from './header-checks.js';
import { rejectionReason as reason } from '../../../test/harness/token-rejection.js';

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

  it('refuses parts outside the base64url alphabet, and parts that are not JSON objects', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = part({ alg: 'ES256' });
    const payload = part({ sub: 'u' });
    expect(reason(() => decodeUnverified(`${header}.${payload}.sig`))).toBe('accepted');
    // Standard base64 (+ / =) and whitespace are not base64url: refused, not decoded leniently.
    for (const bad of [`${header}=.${payload}.sig`, `${header}.${payload}.si+g`, `${header}.${payload}.si/g`, `${header}.${payload}. sig`, `.${payload}.sig`, `${header}..sig`]) {
      expect(reason(() => decodeUnverified(bad))).toBe('malformed');
    }
    for (const notObject of [[1], 7, 'text', null]) {
      expect(reason(() => decodeUnverified(`${part(notObject)}.${payload}.sig`))).toBe('malformed');
      expect(reason(() => decodeUnverified(`${header}.${part(notObject)}.sig`))).toBe('malformed');
    }
  });

  it('hands on the signed bytes and the signature as sent, and an empty signature for alg none to refuse', () => {
    const token = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`;
    const decoded = decodeUnverified(token);
    expect(decoded).toEqual({ header: { alg: 'none' }, payload: { sub: 'u' }, signingInput: token.slice(0, -1), signature: '' });
    expect(reason(() => checkHeader(decoded.header, ['ES256']))).toBe('alg_none');
  });
});

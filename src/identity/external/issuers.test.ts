import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { isInternalHost, normalizeIssuer } from './issuers.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof GatehouseError ? error.code : 'other';
  }
  return 'accepted';
};

describe('external issuer URLs (SSRF)', () => {
  const oidc = (jwks_url: string) => ({ kind: 'oidc' as const, issuer: 'https://idp.example', audience: 'a', jwks_url });

  it('production accepts a public https JWKS URL (control)', () => {
    expect(code(() => normalizeIssuer(oidc('https://idp.example/.well-known/jwks.json'), false))).toBe('accepted');
  });

  it('production refuses http, credentials, and internal addresses', () => {
    for (const url of [
      'http://idp.example/jwks.json',
      'https://user:pw@idp.example/jwks.json',
      'https://127.0.0.1/jwks.json',
      'https://localhost:8443/jwks.json',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.1.2.3/jwks.json',
      'https://172.20.0.1/jwks.json',
      'https://192.168.1.1/jwks.json',
      'https://[::1]/jwks.json',
      'https://[::ffff:127.0.0.1]/jwks.json',
      'https://[fd00::1]/jwks.json',
      'https://2130706433/jwks.json',
      'https://0x7f000001/jwks.json',
      'https://metadata.google.internal/jwks.json',
    ]) expect(code(() => normalizeIssuer(oidc(url), false)), url).toBe('validation_failed');
  });

  it('a Supabase issuer whose derived JWKS URL is internal is refused in production', () => {
    expect(code(() => normalizeIssuer({ kind: 'supabase', issuer: 'https://127.0.0.1/auth/v1' }, false))).toBe('validation_failed');
  });

  it('development allows loopback http (local test issuers)', () => {
    expect(code(() => normalizeIssuer(oidc('http://127.0.0.1:9999/jwks.json'), true))).toBe('accepted');
  });

  it('classifies hosts', () => {
    expect(isInternalHost('8.8.8.8')).toBe(false);
    expect(isInternalHost('www.googleapis.com')).toBe(false);
    expect(isInternalHost('100.64.0.1')).toBe(true);
    expect(isInternalHost('0.0.0.0')).toBe(true);
  });
});

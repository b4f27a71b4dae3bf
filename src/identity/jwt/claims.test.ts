import { CompactSign, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { refuseByClaims, verifySignatureAndClaims, type ClaimRules } from './claims.js';
import { TokenRejected } from './token-rejected.js';

const NOW_S = 1_800_000_000;
const SKEW_S = 60;
const rules: ClaimRules = {
  algorithms: ['ES256'], issuer: ['https://gh.example/auth/v1/projects/p/dev', 'https://gh.example/auth/v1'],
  audience: 'authenticated', clockSkewS: SKEW_S, now: new Date(NOW_S * 1000),
};
const valid = { iss: 'https://gh.example/auth/v1/projects/p/dev', aud: 'authenticated', sub: 'usr_1', iat: NOW_S - 10, exp: NOW_S + 3600 };
const without = (claim: keyof typeof valid, extra: Record<string, unknown> = {}) => {
  const { [claim]: _gone, ...rest } = valid;
  return { ...rest, ...extra };
};

// Every claim check the pre-check makes, alone and in pairs whose order decides the reason.
const CASES: Record<string, Record<string, unknown>> = {
  valid,
  'no exp': without('exp'), 'no iat': without('iat'), 'no iss': without('iss'), 'no aud': without('aud'), 'no sub': without('sub'),
  'no iss, expired': without('iss', { exp: NOW_S - 3600 }), 'no iat, no sub': without('iat', { sub: undefined }), 'no iat, no exp': without('iat', { exp: undefined }),
  'iss of another': { ...valid, iss: 'https://evil.example' }, 'iss null': { ...valid, iss: null }, 'legacy iss': { ...valid, iss: 'https://gh.example/auth/v1' },
  'aud of another': { ...valid, aud: 'service_role' }, 'aud number': { ...valid, aud: 7 },
  'aud list with ours': { ...valid, aud: ['x', 'authenticated'] }, 'aud list without': { ...valid, aud: ['x', 'y'] },
  'wrong aud, expired': { ...valid, aud: 'service_role', exp: NOW_S - 3600 },
  'wrong iss, wrong aud': { ...valid, iss: 'https://evil.example', aud: 'service_role' },
  'iat not a number': { ...valid, iat: 'yesterday' }, 'iat far ahead': { ...valid, iat: NOW_S + SKEW_S + 1 }, 'iat within skew': { ...valid, iat: NOW_S + SKEW_S },
  'iat far ahead, expired': { ...valid, iat: NOW_S + 3600, exp: NOW_S - 3600 },
  'nbf ahead': { ...valid, nbf: NOW_S + SKEW_S + 1 }, 'nbf within skew': { ...valid, nbf: NOW_S + SKEW_S }, 'nbf not a number': { ...valid, nbf: '1' },
  'nbf ahead, expired': { ...valid, nbf: NOW_S + 3600, exp: NOW_S - 3600 },
  'exp not a number': { ...valid, exp: 'tomorrow' }, 'exp null': { ...valid, exp: null },
  'expired': { ...valid, exp: NOW_S - SKEW_S }, 'expired within skew': { ...valid, exp: NOW_S - SKEW_S + 1 },
  'sub empty': { ...valid, sub: '' }, 'sub number': { ...valid, sub: 1 }, 'sub too long': { ...valid, sub: 'u'.repeat(256) },
  'sub empty, expired': { ...valid, sub: '', exp: NOW_S - 3600 },
};

async function reasonOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return error instanceof TokenRejected ? error.reason : `other: ${String(error)}`;
  }
  return 'accepted';
}

describe('claim checks before the signature', () => {
  let key: { publicKey: CryptoKey; privateKey: CryptoKey };
  beforeAll(async () => { key = await generateKeyPair('ES256'); });

  it.each(Object.keys(CASES))('refuse as verification of the genuinely signed token would: %s', async (name) => {
    const json = JSON.stringify(CASES[name]);
    const token = await new CompactSign(new TextEncoder().encode(json)).setProtectedHeader({ alg: 'ES256' }).sign(key.privateKey);
    const verified = await reasonOf(() => verifySignatureAndClaims(token, key.publicKey, rules));
    // The pre-check sees the payload as decoded from the token.
    expect(await reasonOf(() => refuseByClaims(JSON.parse(json) as JWTPayload, rules))).toBe(verified);
  });

  it('the cases cover every reason the pre-check can give, and acceptance', async () => {
    const seen = new Set(await Promise.all(Object.values(CASES).map((p) => reasonOf(() => refuseByClaims(JSON.parse(JSON.stringify(p)) as JWTPayload, rules)))));
    expect([...seen].sort()).toEqual(['accepted', 'expired', 'issued_in_future', 'missing_claim', 'not_yet_valid', 'wrong_audience', 'wrong_issuer']);
  });
});

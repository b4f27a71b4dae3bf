import { randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeUnverified } from './header-checks.js';
import { refuseForgedSignature } from './signature-precheck.js';
import { rejectionReason as reason } from '../../../test/harness/token-rejection.js';

const sign = (alg: string, key: CryptoKey) => new SignJWT({ sub: 'usr_1', exp: 2_000_000_000 }).setProtectedHeader({ alg, kid: 'sk_1' }).sign(key);
const withSignature = (token: string, signature: string) => `${token.split('.').slice(0, 2).join('.')}.${signature}`;

describe.each(['ES256', 'EdDSA'])('the signature pre-check (%s)', (alg) => {
  it('lets a genuine signature through (jose then decides)', async () => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const token = await sign(alg, privateKey);
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), publicKey, alg))).toBe('accepted');
  });

  it('refuses a signature of the wrong length before any crypto, and a full-length forgery by the check', async () => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const token = await sign(alg, privateKey);
    const signature = token.split('.')[2]!;
    expect(signature).toHaveLength(86);
    for (const forged of ['AAAA', signature.slice(0, -1), `${signature}A`, randomBytes(64).toString('base64url'), randomBytes(65).toString('base64url')]) {
      expect(reason(() => refuseForgedSignature(decodeUnverified(withSignature(token, forged)), publicKey, alg))).toBe('bad_signature');
    }
  });

  it('refuses what another key signed', async () => {
    const mine = await generateKeyPair(alg);
    const attacker = await generateKeyPair(alg);
    const token = await sign(alg, attacker.privateKey);
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), mine.publicKey, alg))).toBe('bad_signature');
  });
});

describe('the signature pre-check leaves what it does not know to jose', () => {
  it('refuses nothing for a key whose type does not fit the algorithm', async () => {
    const ec = await generateKeyPair('ES256');
    const ed = await generateKeyPair('EdDSA');
    const p384 = await generateKeyPair('ES384');
    const token = withSignature(await sign('ES256', ec.privateKey), randomBytes(64).toString('base64url'));
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), ed.publicKey, 'ES256'))).toBe('accepted');
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), ec.publicKey, 'EdDSA'))).toBe('accepted');
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), p384.publicKey, 'ES256'))).toBe('accepted');
    // The same key with its own algorithm is checked: the pass above is not a broken check.
    expect(reason(() => refuseForgedSignature(decodeUnverified(token), ec.publicKey, 'ES256'))).toBe('bad_signature');
  });
});

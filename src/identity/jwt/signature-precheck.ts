import { KeyObject, verify } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { UnverifiedToken } from './header-checks.js';
import { TokenRejected } from './token-rejected.js';

/**
 * Refuses a Gatehouse token whose signature is not its key's, before jose is called: first by
 * shape (ES256 and Ed25519 signatures are exactly 64 bytes, 86 base64url characters; a truncated
 * or padded one is refused without any crypto), then by Node's synchronous `crypto.verify`.
 *
 * Refuse-only: a signature that passes here is checked again by jose's jwtVerify, which alone
 * accepts a token (once per token: a verified token is cached until it expires). Why by hand: jose
 * verifies through WebCrypto, whose every call converts its arguments (WebIDL) and runs as a job
 * on libuv's thread pool, about 100 µs of CPU for an ES256 check where `crypto.verify` with the
 * same OpenSSL key takes about 66 µs, and a refusal from jose costs a stack-carrying error on top;
 * a forged token is refused here for the ECDSA check alone. The check blocks the event loop for
 * those ~66 µs, which is the same CPU a thread-pool job would take from a 2-core machine anyway.
 * Anything unexpected (a key Node cannot use, an algorithm not handled here) refuses nothing:
 * jose decides.
 */
export function refuseForgedSignature(token: UnverifiedToken, key: CryptoKey, alg: string): void {
  const check = checkerOf(key, alg);
  if (!check) return;
  if (token.signature.length !== check.signatureChars) throw new TokenRejected('bad_signature');
  let valid: boolean;
  try {
    valid = verify(check.digest, Buffer.from(token.signingInput), check.key, Buffer.from(token.signature, 'base64url'));
  } catch {
    return;
  }
  if (!valid) throw new TokenRejected('bad_signature');
}

interface Checker {
  key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' };
  /** The digest crypto.verify takes: SHA-256 for ES256, none for EdDSA (the algorithm hashes itself). */
  digest: 'sha256' | null;
  /** A signature's exact length in base64url characters, no padding (RFC 7515 §2). */
  signatureChars: number;
}

/**
 * Each verification key's checker, made once: keys are cached CryptoKeys (signing-keys.ts), and a
 * WeakMap lets one go with its key. Kept with the algorithm it was made for (a key has one, but
 * the check must never depend on which came first). `null`: a key and algorithm not known here.
 */
const checkers = new WeakMap<CryptoKey, { alg: string; checker: Checker | null }>();

function checkerOf(key: CryptoKey, alg: string): Checker | null {
  const known = checkers.get(key);
  if (known?.alg === alg) return known.checker;
  const checker = makeChecker(key, alg);
  checkers.set(key, { alg, checker });
  return checker;
}

const base64urlChars = (bytes: number) => Math.ceil((bytes * 4) / 3);

function makeChecker(key: CryptoKey, alg: string): Checker | null {
  let object: KeyObject;
  try {
    object = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
  } catch {
    return null;
  }
  const type = object.asymmetricKeyType;
  // The key's own alg must match the token's (checked by the caller); here it picks the check.
  if (alg === 'ES256' && type === 'ec' && object.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    // JWS carries ECDSA signatures as r‖s (IEEE P1363), not DER (RFC 7518 §3.4).
    return { key: { key: object, dsaEncoding: 'ieee-p1363' }, digest: 'sha256', signatureChars: base64urlChars(64) };
  }
  // Gatehouse's EdDSA keys are Ed25519 (signing-keys.ts); any other curve is left to jose.
  if (alg === 'EdDSA' && type === 'ed25519') return { key: object, digest: null, signatureChars: base64urlChars(64) };
  return null;
}

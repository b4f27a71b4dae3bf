import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { TokenRejected } from './token-rejected.js';

// RFC 8725 §2–3 checks that run before any key is looked up, so that a
// forged header can neither pick the algorithm nor point at its own key.

/** Headers that would let the token choose its own verification key (RFC 8725 §3.10, CVE-2018-0114). */
const KEY_POINTING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Longest token we parse: a JWT larger than this is an attack or a mistake. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface UnverifiedToken {
  header: ProtectedHeaderParameters;
  /** Untrusted until verified: used only to route the token to its issuer. */
  payload: JWTPayload;
}

export function decodeUnverified(token: string): UnverifiedToken {
  if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new TokenRejected('malformed');
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    throw new TokenRejected('malformed');
  }
}

/**
 * The algorithm allowlist is the issuer's, never the token's: `alg: none` and an
 * HS256 token presented to an issuer that publishes an RSA/EC key (the
 * "public key as HMAC secret" confusion, RFC 8725 §2.1) both fail here.
 */
export function checkHeader(header: ProtectedHeaderParameters, allowedAlgs: readonly string[]): void {
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') throw new TokenRejected('malformed');
  if (alg.toLowerCase() === 'none') throw new TokenRejected('alg_none');
  if (!allowedAlgs.includes(alg)) throw new TokenRejected('alg_not_allowed');
  for (const name of KEY_POINTING_HEADERS) {
    if (name in header) throw new TokenRejected('forbidden_header');
  }
  // We implement no JWS extension, so any `crit` entry is one we do not understand (RFC 7515 §4.1.11).
  if ('crit' in header) throw new TokenRejected('unknown_crit');
  // Only JWTs: a JWE or a typ meant for another use (e.g. `at+jwt` is fine, `dpop+jwt` is not ours) is refused (RFC 8725 §3.11).
  if (header.typ !== undefined && !['JWT', 'jwt', 'at+jwt', 'application/at+jwt'].includes(String(header.typ))) {
    throw new TokenRejected('malformed');
  }
}

import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { TokenRejected } from './token-rejected.js';

// RFC 8725 §2–3 checks that run before any key is looked up, so that a
// forged header can neither pick the algorithm nor point at its own key.

/** Headers that would let the token choose its own verification key (RFC 8725 §3.10, CVE-2018-0114). */
const KEY_POINTING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Longest token we parse: a JWT larger than this is an attack or a mistake. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * A compact JWS: three base64url parts (the signature empty only for `alg: none`, refused later
 * with its own reason). The alphabet check makes the lenient base64url decoding below strict.
 * No backtracking: the character class excludes the separator.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface UnverifiedToken {
  header: ProtectedHeaderParameters;
  /** Untrusted until verified: used only to route the token to its issuer and refuse it early. */
  payload: JWTPayload;
  /** `<header>.<payload>` as sent: the bytes the signature covers. */
  signingInput: string;
  /** The signature part as sent (base64url), for the checks that refuse before any crypto. */
  signature: string;
}

/**
 * The token's parts, decoded once per request and handed on to whoever verifies it (the issuer's
 * routing, the header and claim checks, the signature pre-check). Decoded by hand with Node's
 * native base64url rather than jose's decoders (which decode the whole token again per call, in
 * JavaScript): this is on every refused request's path, and jose still parses the token itself
 * in jwtVerify before any token is accepted.
 */
export function decodeUnverified(token: string): UnverifiedToken {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw new TokenRejected('malformed');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return {
    header: jsonObjectOf(token.slice(0, first)) as ProtectedHeaderParameters,
    payload: jsonObjectOf(token.slice(first + 1, second)) as JWTPayload,
    signingInput: token.slice(0, second),
    signature: token.slice(second + 1),
  };
}

/** A base64url part that must hold a JSON object (RFC 7519 §7.2 steps 5–10); anything else is malformed. */
function jsonObjectOf(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenRejected('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenRejected('malformed');
  return value as Record<string, unknown>;
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

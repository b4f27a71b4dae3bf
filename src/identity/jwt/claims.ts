import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type CryptoKey, type KeyObject } from 'jose';
import { TokenRejected } from './token-rejected.js';

export interface ClaimRules {
  algorithms: readonly string[];
  /** One accepted `iss`, or several (an environment's own issuer and the legacy one). */
  issuer: string | readonly string[];
  audience: string | readonly string[];
  /** Seconds, ≤ 60 (RFC 8725 §3.8 asks for a small window). */
  clockSkewS: number;
  now: Date;
}

type Key = CryptoKey | KeyObject | Uint8Array;

/**
 * Signature, then claims (jose checks the signature before it reads any
 * claim). exp, iat, iss, aud and sub are required; iat may not be in the future
 * beyond the skew, which jose does not check on its own.
 */
export async function verifySignatureAndClaims(token: string, key: Key | JWTVerifyGetKey, rules: ClaimRules): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    const result = await jwtVerify(token, key as JWTVerifyGetKey, {
      algorithms: [...rules.algorithms],
      issuer: typeof rules.issuer === 'string' ? rules.issuer : [...rules.issuer],
      audience: typeof rules.audience === 'string' ? rules.audience : [...rules.audience],
      clockTolerance: rules.clockSkewS,
      currentDate: rules.now,
      requiredClaims: ['exp', 'iat', 'iss', 'aud', 'sub'],
    });
    payload = result.payload;
  } catch (error) {
    throw mapJoseError(error);
  }
  const nowS = Math.floor(rules.now.getTime() / 1000);
  if (typeof payload.iat !== 'number' || payload.iat > nowS + rules.clockSkewS) throw new TokenRejected('issued_in_future');
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) throw new TokenRejected('missing_claim');
  return payload;
}

function mapJoseError(error: unknown): TokenRejected {
  if (error instanceof TokenRejected) return error;
  if (error instanceof errors.JWTExpired) return new TokenRejected('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new TokenRejected('not_yet_valid');
    if (error.claim === 'iat') return new TokenRejected('issued_in_future');
    if (error.claim === 'iss') return new TokenRejected(error.reason === 'missing' ? 'missing_claim' : 'wrong_issuer');
    if (error.claim === 'aud') return new TokenRejected(error.reason === 'missing' ? 'missing_claim' : 'wrong_audience');
    return new TokenRejected('missing_claim');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('bad_signature');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return new TokenRejected('unknown_key');
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenRejected('alg_not_allowed');
  if (error instanceof errors.JOSENotSupported) return new TokenRejected('alg_not_allowed');
  // JWSInvalid, JWTInvalid, key type mismatch (e.g. HMAC alg with an EC key): a malformed or confused token.
  return new TokenRejected('malformed');
}

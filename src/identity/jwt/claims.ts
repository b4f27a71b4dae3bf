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

/** Claims every token must carry. */
const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub'] as const;

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
      requiredClaims: [...REQUIRED_CLAIMS],
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

/**
 * The checks of verifySignatureAndClaims that need no key, on the still-unverified payload, so that
 * a token that could never pass (expired, another issuer or audience, a claim missing) is refused
 * before its signature costs anything: cheap refusals first. Same order and same reasons as jose's
 * claim checks (validateClaimsSet: presence, iss, aud, iat, nbf, exp) and ours after them, so a
 * genuinely signed token gets the reason it would get from verifySignatureAndClaims (tested
 * against it). Refuse-only: passing proves nothing, jwtVerify still decides acceptance.
 */
export function refuseByClaims(payload: JWTPayload, rules: ClaimRules): void {
  // jose looks for them in this order, and a missing iat is reported as an iat check (mapJoseError).
  for (const claim of PRESENCE_ORDER) if (!Object.hasOwn(payload, claim)) throw new TokenRejected(claim === 'iat' ? 'issued_in_future' : 'missing_claim');
  if (!listOf(rules.issuer).includes(payload.iss as string)) throw new TokenRejected('wrong_issuer');
  if (!audienceIn(payload.aud, listOf(rules.audience))) throw new TokenRejected('wrong_audience');
  const nowS = Math.floor(rules.now.getTime() / 1000);
  if (typeof payload.iat !== 'number') throw new TokenRejected('issued_in_future');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowS + rules.clockSkewS)) throw new TokenRejected('not_yet_valid');
  if (typeof payload.exp !== 'number') throw new TokenRejected('missing_claim');
  if (payload.exp <= nowS - rules.clockSkewS) throw new TokenRejected('expired');
  if (payload.iat > nowS + rules.clockSkewS) throw new TokenRejected('issued_in_future');
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) throw new TokenRejected('missing_claim');
}

const PRESENCE_ORDER = ['iss', 'aud', 'sub', 'iat', 'exp'] as const;

const listOf = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/** jose's rule: a string `aud` must be accepted, an array must hold one accepted audience. */
function audienceIn(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && accepted.some((a) => aud.includes(a));
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

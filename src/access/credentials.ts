import { GatehouseError } from '../errors/index.js';

// The credentials a request presents and why one is refused. Parsed from header values only:
// this layer knows no HTTP framework.

/** Anything that claims to be an API key (`pk_…`, `sk_…`), for telling a key from a JWT. */
export const LOOKS_LIKE_KEY = /^(pk|sk)_/;

const BEARER_HEADER = /^Bearer[ ]+(\S+)\s*$/i;

/** The credential of an `Authorization: Bearer <credential>` header, if it is one. */
export function bearerOf(authorization: string | string[] | undefined): string | undefined {
  return typeof authorization === 'string' ? BEARER_HEADER.exec(authorization)?.[1] : undefined;
}

/**
 * The API key a request presents, from `apikey`, `X-API-Key` or a bearer that looks like a key.
 * Two different keys in one request are refused rather than guessed between. No allocation: this
 * runs on every request.
 */
export function presentedKey(apikey: unknown, xApiKey: unknown, bearer: string | undefined): string | undefined {
  let key = typeof apikey === 'string' && apikey !== '' ? apikey.trim() : undefined;
  if (typeof xApiKey === 'string' && xApiKey !== '') key = sameKey(key, xApiKey.trim());
  if (bearer !== undefined && LOOKS_LIKE_KEY.test(bearer)) key = sameKey(key, bearer);
  return key;
}

function sameKey(known: string | undefined, next: string): string {
  if (known !== undefined && known !== next) {
    throw new GatehouseError('bad_request', { message: 'The request carries two different API keys; send one.' });
  }
  return next;
}

/** Why a key was refused; logged as a security event, never sent beyond `invalid_api_key`. */
export type KeyRejection = 'malformed' | 'checksum' | 'unknown' | 'revoked' | 'expired' | 'mismatch' | 'creator_lost_power';

export class ApiKeyRejected extends GatehouseError {
  constructor(readonly reason: KeyRejection) {
    super('invalid_api_key');
  }
}

/**
 * Why a bearer token was refused. The reason goes to security events and to
 * the client's `details.reason` (it names a rule, never echoes the token).
 */
export type TokenRejectReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'alg_none'
  | 'forbidden_header'
  | 'unknown_crit'
  | 'kid_missing'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'wrong_project'
  | 'session_revoked'
  | 'user_not_found'
  | 'issuer_unavailable';

/**
 * Control flow between the verifiers and the identify stage, which turns it into a 401: it carries
 * no stack trace (capturing one cost several µs per refused request, and nothing reads it; the
 * reason says where it came from).
 */
export class TokenRejected extends Error {
  /** Set when the token was an external issuer's (metrics count those apart from our own). */
  external = false;
  constructor(readonly reason: TokenRejectReason, message?: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `token rejected: ${reason}`);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'TokenRejected';
  }
}

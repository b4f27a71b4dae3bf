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

export class TokenRejected extends Error {
  constructor(readonly reason: TokenRejectReason, message?: string) {
    super(message ?? `token rejected: ${reason}`);
    this.name = 'TokenRejected';
  }
}

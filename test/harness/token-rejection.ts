import { TokenRejected, type TokenRejectReason } from '../../src/identity/jwt/token-rejected.js';

/**
 * Why a token check refused (its TokenRejected reason), 'accepted' when it let the token through,
 * 'other' for any other error: one value to compare, for tests of the refusal steps.
 */
export function rejectionReason(check: () => unknown): TokenRejectReason | 'accepted' | 'other' {
  try {
    check();
  } catch (error) {
    return error instanceof TokenRejected ? error.reason : 'other';
  }
  return 'accepted';
}

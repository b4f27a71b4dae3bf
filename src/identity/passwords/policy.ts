import { GatehouseError } from '../../errors/index.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

// NIST SP 800-63B §5.1.1.2: at least 8 characters, allow long passphrases, no
// composition rules, refuse known-compromised values. The upper bound keeps a
// megabyte "password" from being hashed (Argon2 cost grows with input only a
// little, but the body and the log of a failed request should stay small).
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** Why a password is refused, as GoTrue's `weak_password.reasons`. */
export type WeakPasswordReason = 'length' | 'pwned';

export function weakPasswordReasons(password: string): WeakPasswordReason[] {
  // Length counts code points, so an emoji passphrase is not penalised.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) return ['length'];
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return ['pwned'];
  return [];
}

/** Throws GoTrue's weak_password error (supabase-js turns it into AuthWeakPasswordError). */
export function assertPasswordAcceptable(password: string): void {
  const reasons = weakPasswordReasons(password);
  if (reasons.length === 0) return;
  const message = reasons[0] === 'length'
    ? `Password must be between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MAX_LENGTH} characters.`
    : 'Password is known to be weak and easy to guess, please choose a different one.';
  throw new GatehouseError('weak_password', { message, details: { weak_password: { reasons, message } } });
}

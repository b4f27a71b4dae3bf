import { Secret, TOTP } from 'otpauth';

// TOTP (RFC 6238) through the otpauth package: SHA-1, 6 digits, 30 s steps, which every
// authenticator app reads from the otpauth:// URL. A code is accepted one step either side of now
// (clock drift), and each step once: the caller stores the step it returns.

const PERIOD_S = 30;
const DIGITS = 6;
const WINDOW = 1;
const ISSUER = 'Gatehouse';

export function newTotpSecret(): string {
  // 20 bytes: the RFC's recommended length for SHA-1.
  return new Secret({ size: 20 }).base32;
}

export function totpUrl(secret: string, email: string): string {
  return totp(secret, email).toString();
}

/**
 * The time step the code belongs to, or null when it is wrong. Only 6 digits are looked at:
 * anything else is wrong, never an exception.
 */
export function verifyTotp(secret: string, code: unknown, nowMs: number): number | null {
  if (typeof code !== 'string' || !/^[0-9]{6}$/.test(code)) return null;
  const delta = totp(secret, '').validate({ token: code, timestamp: nowMs, window: WINDOW });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / PERIOD_S) + delta;
}

/** The current code (tests and the CLI's own checks). */
export function totpCode(secret: string, nowMs: number): string {
  return totp(secret, '').generate({ timestamp: nowMs });
}

function totp(secret: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S, secret: Secret.fromBase32(secret) });
}

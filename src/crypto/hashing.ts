import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Hex SHA-256 of a UTF-8 string (or raw bytes). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Constant-time string equality for secrets (API keys, CSRF tokens, ...).
 *
 * crypto.timingSafeEqual throws on inputs of different lengths, and the usual
 * 'if (a.length !== b.length) return false' guard is an early exit that leaks
 * the secret's length. Comparing fixed-size SHA-256 digests avoids both; equal
 * digests imply equal strings because SHA-256 is collision resistant. Hashing
 * time still grows with input length, which reveals only the length of the
 * attacker's own input.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

/** `bytes` random bytes from the CSPRNG, base64url without padding. */
export function randomToken(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
    throw new TypeError('randomToken: bytes must be an integer between 1 and 1024');
  }
  return randomBytes(bytes).toString('base64url');
}

import { randomBytes } from 'node:crypto';

/** The alphabet of randomBase32 (and so of ids and blob keys). */
export const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase RFC 4648 base32 from a CSPRNG; 16 characters = 80 bits. */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += BASE32[bytes[i]! & 31];
  return out;
}

/** A row id with a readable type prefix, e.g. `key_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase32(20)}`;
}

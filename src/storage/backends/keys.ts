import { BASE32, randomBase32 } from '../../shared/ids.js';

// Blob keys: 26 characters of base32 from a CSPRNG (130 bits), so a key is unguessable and never
// collides, and it is the only thing a backend builds a path or an S3 key from.
const KEY = /^[a-z2-7]{26}$/;

export function newBlobKey(): string {
  return randomBase32(26);
}

/** Every first two characters a key can have: a local backend's shard folders. */
export function keyPrefixes(): string[] {
  return [...BASE32].flatMap((a) => [...BASE32].map((b) => a + b));
}

/** Fails loudly on anything but a server-made key: a backend never sees another string. */
export function assertBlobKey(key: string): string {
  if (!KEY.test(key)) throw new TypeError('storage: not a blob key');
  return key;
}

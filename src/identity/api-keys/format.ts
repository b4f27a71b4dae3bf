import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ENVIRONMENTS, isEnvironment, type Environment } from '../../tenancy/environments.js';

// Key format (docs/api.md): `<pk|sk>_<env>_<project id>_<secret><checksum>`.
//   - the key names its project and environment, so no extra header is needed;
//   - <secret> is 43 base62 characters from a CSPRNG: 43·log2(62) ≈ 256 bits (≥ 192 required);
//   - <checksum> is CRC32 of everything before it, as 6 base62 characters — the
//     GitHub token scheme: a scanner or our parser rejects typos offline, before any lookup.
// The checksum is not a secret and not an authenticator; only the hash lookup is.

import type { KeyKind } from '../../access/index.js';

export type { KeyKind };

const KIND_PREFIX: Record<KeyKind, 'pk' | 'sk'> = { publishable: 'pk', secret: 'sk' };
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
export const PROJECT_ID_PATTERN = /^[a-z2-7]{16}$/;
const KEY_PATTERN = new RegExp(
  `^(pk|sk)_(${ENVIRONMENTS.join('|')})_([a-z2-7]{16})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);
export { LOOKS_LIKE_KEY } from '../../access/index.js';

export interface ParsedKey {
  kind: KeyKind;
  environment: Environment;
  projectId: string;
}

export type ParseFailure = 'malformed' | 'checksum';

export function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function base62Fixed(value: number, length: number): string {
  let out = '';
  let n = value >>> 0;
  for (let i = 0; i < length; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksumOf(body: string): string {
  return base62Fixed(crc32(body), CHECKSUM_LENGTH);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface GeneratedKey {
  key: string;
  hash: string;
  prefix: string;
  lastFour: string;
}

export function generateApiKey(kind: KeyKind, environment: Environment, projectId: string): GeneratedKey {
  if (!isEnvironment(environment)) throw new TypeError(`unknown environment ${environment}`);
  if (!PROJECT_ID_PATTERN.test(projectId)) throw new TypeError('project id must be 16 base32 characters');
  const body = `${KIND_PREFIX[kind]}_${environment}_${projectId}_${randomBase62(SECRET_LENGTH)}`;
  const key = body + checksumOf(body);
  return { key, hash: hashApiKey(key), prefix: `${KIND_PREFIX[kind]}_${environment}_`, lastFour: key.slice(-4) };
}

/** Offline validation: format and checksum. Says nothing about whether the key exists. */
export function parseApiKey(key: string): ParsedKey | ParseFailure {
  const match = KEY_PATTERN.exec(key);
  if (!match) return 'malformed';
  const [, kind, environment, projectId, secret, checksum] = match as unknown as [string, 'pk' | 'sk', Environment, string, string, string];
  if (checksumOf(`${kind}_${environment}_${projectId}_${secret}`) !== checksum) return 'checksum';
  return { kind: kind === 'pk' ? 'publishable' : 'secret', environment, projectId };
}

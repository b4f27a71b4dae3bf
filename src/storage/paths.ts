import { GatehouseError } from '../errors/index.js';

// Object names and bucket ids: a strict grammar, checked on every name a client sends (URL, body,
// signed token). A name is only ever a database value: the bytes live under a random server-made
// key (backends/), so even a name that slipped past this grammar could not reach the disk. The
// grammar still refuses what would confuse clients, proxies and logs: `..` and `.` segments (URL
// normalisation would make two names one), empty segments (`a//b`, a leading or trailing `/`),
// backslashes (Windows paths), control characters (log and header injection), lone surrogates
// (not UTF-8), and names over 1024 bytes (storage-api's and S3's limit).

/** Bytes of UTF-8: S3's and storage-api's limit. */
export const MAX_NAME_BYTES = 1024;
const MAX_SEGMENTS = 64;
/** Folders kept as columns for rules (`folder[0]` … `folder[3]`). */
export const RULE_FOLDERS = 4;

// C0, DEL and C1 controls, and the Unicode line/paragraph separators.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first rule an object name breaks, or null. */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (FORBIDDEN.test(name)) return 'the name holds a control character or a backslash';
  if (LONE_SURROGATE.test(name)) return 'the name is not valid Unicode';
  const segments = name.split('/');
  if (segments.length > MAX_SEGMENTS) return `the name has more than ${MAX_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'the name has an empty segment (a leading, trailing or double /)';
    if (segment === '.' || segment === '..') return 'the name has a "." or ".." segment';
  }
  return null;
}

export function checkObjectName(name: unknown): string {
  const problem = nameProblem(name);
  if (problem) throw new GatehouseError('storage_invalid_key', { details: { reason: problem } });
  return name as string;
}

/** A listing prefix: a name, a name ending in `/`, or empty (the bucket's root). */
export function checkPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === null || prefix === '') return '';
  if (typeof prefix !== 'string') throw new GatehouseError('storage_invalid_key', { details: { reason: 'the prefix is not a string' } });
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkObjectName(trimmed);
  return prefix;
}

// Route words under /object/ that a bucket id would shadow (or be shadowed by).
const RESERVED_BUCKET_IDS = new Set(['list', 'list-v2', 'move', 'copy', 'sign', 'upload', 'public', 'authenticated', 'info', 'render']);
const BUCKET_ID = /^[A-Za-z0-9_-]{1,63}$/;

export function checkBucketId(id: unknown): string {
  if (typeof id !== 'string' || !BUCKET_ID.test(id) || RESERVED_BUCKET_IDS.has(id)) throw new GatehouseError('storage_invalid_bucket_name');
  return id;
}

/** The first folders of a name, for the rule columns folder[0]…folder[3]; null past its depth. */
export function foldersOf(name: string): (string | null)[] {
  const segments = name.split('/').slice(0, -1);
  return Array.from({ length: RULE_FOLDERS }, (_, i) => segments[i] ?? null);
}

/** The last segment: the file's own name (Content-Disposition, listings). */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

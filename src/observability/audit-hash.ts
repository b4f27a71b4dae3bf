import { createHash } from 'node:crypto';

// The hash of an audit entry, version 1. Migration 0012 chains the entries already present with
// this function and every later write uses it, so its encoding never changes: a new encoding
// would be version 2, recorded beside the entry.
//
// The hash covers a canonical JSON encoding (RFC 8785 JCS for these values: object keys sorted by
// UTF-16 code unit, no whitespace, numbers and strings as ECMAScript writes them) of the entry's
// fields and the previous entry's hash. Canonical, so the hash is a function of the values only:
// not of the order a driver, an engine (text or jsonb) or a later Gatehouse writes keys in, and an
// auditor can recompute it from an export with any JCS library. JSON, not concatenation, so field
// boundaries are unambiguous ("a|b" + "c" never collides with "a" + "b|c").

/** The prev_hash of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The stored fields of an entry that its hash covers (the row id does not: seq is the order). */
export interface ChainedFields {
  project_id: string;
  environment: string | null;
  seq: number;
  actor: string;
  action: string;
  target: string | null;
  /** The stored JSON text; hashed as its parsed value. */
  details: string;
  created_at: string;
  prev_hash: string;
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function auditEntryHash(entry: ChainedFields): string {
  const encoded = canonicalJson({
    v: 1,
    project_id: entry.project_id,
    environment: entry.environment,
    seq: entry.seq,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: JSON.parse(entry.details) as unknown,
    created_at: entry.created_at,
    prev_hash: entry.prev_hash,
  });
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** The chain-head table keys the project-wide chain (entries with no environment) by ''. */
export function chainKey(environment: string | null): string {
  return environment ?? '';
}

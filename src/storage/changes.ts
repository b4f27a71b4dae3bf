import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { objectMetadata } from './listing.js';
import type { ObjectRow } from './store.js';

// What the storage write path tells whoever listens for object changes (realtime, issue 16). As
// for the Data API (data/rows/changes.ts), storage only defines the hook; deps.ts plugs in the
// realtime publisher, so storage/ imports no other feature.

export type ObjectChangeType = 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * An object as a row of Supabase's `storage.objects` (the shape supabase-js clients expect from a
 * `postgres_changes` subscription on schema storage, table objects), mapped from our row:
 * `owner` and `owner_id` are the creating user's id (null for a secret key's object); `metadata`
 * is storage-api's file metadata (as a list returns it), `user_metadata` the metadata the upload
 * brought; `version` is the current content's key; `last_accessed_at` is `updated_at` (reads are
 * not recorded). Carries everything a bucket rule reads (bucket, name, owner, user metadata), so
 * a listener decides who may see it without reading the database.
 */
// A type, not an interface: it is a row (Record<string, unknown>) wherever rows are handled.
export type StorageObjectRecord = {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
  metadata: ReturnType<typeof objectMetadata>;
  user_metadata: Record<string, unknown> | null;
  path_tokens: string[];
  version: string;
};

export interface ObjectChange {
  type: ObjectChangeType;
  /** The object after (INSERT, UPDATE); null for DELETE. */
  record: StorageObjectRecord | null;
  /** The object before (UPDATE, DELETE); null for INSERT. */
  old: StorageObjectRecord | null;
}

export interface ObjectChanges {
  projectId: string;
  environment: string;
  changes: ObjectChange[];
}

export interface ObjectChangeSink {
  /**
   * Runs inside the write's transaction, as its last statement (it may write, e.g. to order
   * changes by commit); returns what to run once the transaction has committed. Never called for
   * a write that rolls back, and what it returns is never run then.
   */
  capture(trx: Kysely<any>, changes: ObjectChanges): Promise<() => void>;
}

export function objectRecord(row: ObjectRow): StorageObjectRecord {
  return {
    id: row.id, bucket_id: row.bucket_id, name: row.name, owner: row.owner, owner_id: row.owner,
    created_at: row.created_at, updated_at: row.updated_at, last_accessed_at: row.updated_at,
    metadata: objectMetadata(row), user_metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
    path_tokens: row.name.split('/'), version: row.version,
  };
}

export interface ObjectWrite<T> {
  result: T;
  changes: ObjectChange[];
}

/**
 * Runs one storage write. With a listener: in one transaction, the listener's capture last, and
 * what it returns once committed (a write that throws publishes nothing). Without one: straight
 * on the database, as before (no transaction a single statement does not need).
 */
export async function writeObjects<T>(
  db: Kysely<Database>, sink: ObjectChangeSink | null, scope: { projectId: string; environment: string },
  write: (db: Kysely<Database>) => Promise<ObjectWrite<T>>,
): Promise<T> {
  if (!sink) return (await write(db)).result;
  let afterCommit: (() => void) | null = null;
  const result = await db.transaction().execute(async (trx) => {
    const written = await write(trx);
    if (written.changes.length > 0) afterCommit = await sink.capture(trx, { projectId: scope.projectId, environment: scope.environment, changes: written.changes });
    return written.result;
  });
  (afterCommit as (() => void) | null)?.();
  return result;
}

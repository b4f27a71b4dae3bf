import { hasScope, type Caller } from '../access/index.js';
import { authContextOf, type AuthContext } from '../data/index.js';
import type { Clock } from '../shared/clock.js';
import { createTtlCache } from '../shared/ttl-cache.js';
import type { StorageObjectRecord } from './changes.js';
import { allowsRow, ruleRow } from './rules.js';
import type { Bucket, StorageStore } from './store.js';

// Who may select an object, decided in memory, for listeners that tell many callers about one
// object (realtime): storage's own answer to a read of it, without a database read per caller.
// The key must hold storage:<bucket>:read (as the object routes require); then a public bucket's
// objects are anyone's (its public URLs serve them without a key), a private bucket's are whoever
// its select rule lets see them. Buckets are read once and cached like
// every setting, per bucket: a change applies at once on this instance, within `ttlMs` on the others.

export type ObjectReadCheck = (caller: Caller, object: StorageObjectRecord) => boolean;

export interface ObjectReadAccess {
  /** The check for objects of these buckets of one project environment, the buckets as they are now. */
  forBuckets(projectId: string, environment: string, bucketIds: readonly string[]): Promise<ObjectReadCheck>;
  /** A bucket changed (created, updated, deleted). */
  forget(projectId: string, environment: string, bucketId: string): void;
}

/** Rule contexts by caller: a caller is fixed once built, and one change is checked for thousands. */
const contexts = new WeakMap<Caller, AuthContext>();

/** Rule rows by record: built once per change, not once per caller checked against it. */
const rows = new WeakMap<StorageObjectRecord, Record<string, unknown>>();

function rowOf(object: StorageObjectRecord): Record<string, unknown> {
  let row = rows.get(object);
  if (!row) rows.set(object, (row = ruleRow({ bucket: object.bucket_id, name: object.name, owner: object.owner, metadata: object.user_metadata })));
  return row;
}

function contextOf(caller: Caller): AuthContext {
  let auth = contexts.get(caller);
  if (!auth) contexts.set(caller, (auth = authContextOf(caller)));
  return auth;
}

export function createObjectReadAccess({ store, clock, ttlMs = 1_000 }: { store: StorageStore; clock: Clock; ttlMs?: number }): ObjectReadAccess {
  const cache = createTtlCache<Promise<Bucket | null>>({ ttlMs, clock, maxEntries: 10_000 });
  const keyOf = (projectId: string, environment: string, bucketId: string) => `${projectId}\u0000${environment}\u0000${bucketId}`;
  return {
    async forBuckets(projectId, environment, bucketIds) {
      const found = await Promise.all([...new Set(bucketIds)].map((id) =>
        cache.getOrLoad(keyOf(projectId, environment, id), () => store.getBucket(projectId, environment, id))));
      const buckets = new Map(found.filter((b): b is Bucket => b !== null).map((b) => [b.id, b]));
      return (caller, object) => {
        const bucket = buckets.get(object.bucket_id);
        if (!bucket || caller.projectId !== projectId || caller.environment !== environment) return false;
        if (!hasScope(caller.key.scopes, `storage:${bucket.id}:read`)) return false;
        if (bucket.public) return true;
        return allowsRow(bucket.ruleSet, 'select', contextOf(caller), rowOf(object));
      };
    },
    forget(projectId, environment, bucketId) {
      cache.delete(keyOf(projectId, environment, bucketId));
    },
  };
}

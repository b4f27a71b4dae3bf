import { GatehouseError } from '../errors/index.js';
import type { AuditLog } from '../observability/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { BlobBackend } from './backends/backend.js';
import { newBlobKey } from './backends/keys.js';
import type { BucketService } from './buckets.js';
import type { Actor } from './context.js';
import { listObjects, objectMetadata, type ListOptions } from './listing.js';
import { listObjectsV2, type ListV2Options } from './listing-v2.js';
import { mimeAllowed } from './mime.js';
import { checkObjectName, foldersOf } from './paths.js';
import { quotaRoom, type UserQuota } from './quota.js';
import { allows, type StorageOperation } from './rules.js';
import { toObjectRow, type Bucket, type ObjectRow, type StorageStore } from './store.js';
import { objectRecord, writeObjects, type ObjectChange, type ObjectChangeSink } from './changes.js';

// Object operations other than the upload itself (upload.ts). Every read goes through `visible`:
// an object the caller may not select is answered exactly as a missing one (same status, code and
// message), so names of other users' objects cannot be probed.

const MAX_REMOVE = 1000;

export function fileObjectJson(row: ObjectRow) {
  return {
    name: row.name, bucket_id: row.bucket_id, owner: row.owner ?? '', owner_id: row.owner ?? '', id: row.id,
    updated_at: row.updated_at, created_at: row.created_at, last_accessed_at: row.updated_at, metadata: objectMetadata(row),
  };
}

export function objectInfoJson(row: ObjectRow) {
  return {
    id: row.id, version: row.version, name: row.name, bucket_id: row.bucket_id, size: row.size, content_type: row.mimetype,
    cache_control: row.cache_control, etag: `"${row.etag}"`, metadata: row.metadata ? (JSON.parse(row.metadata) as unknown) : {},
    last_modified: row.updated_at, created_at: row.created_at, updated_at: row.updated_at,
  };
}

export interface ObjectServiceDeps {
  store: StorageStore;
  backend: BlobBackend;
  buckets: BucketService;
  clock: Clock;
  audit: AuditLog;
  quota: UserQuota;
  /** Told of every committed object write (realtime); null: nobody listens. */
  changes: ObjectChangeSink | null;
}

export function createObjectService(d: ObjectServiceDeps) {
  const { store, backend, buckets, clock } = d;
  const deleted = (rows: ObjectRow[]): ObjectChange[] => rows.map((row) => ({ type: 'DELETE', record: null, old: objectRecord(row) }));

  /** The object if it exists and the caller may `op` it (select at least); else "not found". */
  async function visible(actor: Actor, bucket: Bucket, rawName: string, op: StorageOperation = 'select'): Promise<ObjectRow> {
    const name = checkObjectName(rawName);
    const row = await store.getObject(actor.projectId, actor.environment, bucket.id, name);
    const rules = bucket.ruleSet;
    const ref = { bucket: bucket.id, name, owner: row?.owner ?? null, metadata: row?.metadata ?? null };
    if (!row || !allows(rules, 'select', actor.auth, ref) || !allows(rules, op, actor.auth, ref)) throw new GatehouseError('storage_object_not_found');
    return row;
  }

  /**
   * Of `names` (already checked), the objects the caller may select and `op`, by name, read in one
   * query (per 500 names) instead of one per name. What is missing or hidden is simply absent.
   */
  async function visibleMany(actor: Actor, bucket: Bucket, names: readonly string[], op: StorageOperation = 'select'): Promise<Map<string, ObjectRow>> {
    const rows = await store.getObjects(actor.projectId, actor.environment, bucket.id, [...new Set(names)]);
    const out = new Map<string, ObjectRow>();
    for (const row of rows) {
      const ref = { bucket: bucket.id, name: row.name, owner: row.owner, metadata: row.metadata };
      if (allows(bucket.ruleSet, 'select', actor.auth, ref) && allows(bucket.ruleSet, op, actor.auth, ref)) out.set(row.name, row);
    }
    return out;
  }

  async function checkDestination(actor: Actor, bucket: Bucket, name: string, owner: string | null, row: ObjectRow): Promise<void> {
    if (!allows(bucket.ruleSet, 'insert', actor.auth, { bucket: bucket.id, name, owner, metadata: row.metadata })) {
      throw new GatehouseError('forbidden', { message: 'The rules of the destination bucket do not allow this.' });
    }
    if (bucket.fileSizeLimit !== null && row.size > bucket.fileSizeLimit) throw new GatehouseError('storage_entity_too_large');
    if (!mimeAllowed(bucket.allowedMimeTypes, row.mimetype)) throw new GatehouseError('storage_mime_type_not_allowed');
    if (await store.getObject(actor.projectId, actor.environment, bucket.id, name)) throw new GatehouseError('storage_object_exists');
  }

  async function transferEnds(actor: Actor, input: { bucketId?: unknown; sourceKey?: unknown; destinationKey?: unknown; destinationBucket?: unknown }) {
    if (typeof input.bucketId !== 'string') throw new GatehouseError('validation_failed', { message: 'bucketId is required.' });
    const from = await buckets.required(actor, input.bucketId);
    const to = input.destinationBucket === undefined || input.destinationBucket === null ? from : await buckets.required(actor, String(input.destinationBucket));
    const destination = checkObjectName(input.destinationKey);
    return { from, to, source: checkObjectName(input.sourceKey), destination };
  }

  /** Every object of an environment whose `column` is `value`, rows then files, in batches. */
  async function removeAll(projectId: string, environment: string, column: 'bucket_id' | 'owner', value: string): Promise<number> {
    let count = 0;
    for (;;) {
      const rows = await store.db.selectFrom('storage_objects').select(['id', 'version'])
        .where('project_id', '=', projectId).where('environment', '=', environment).where(column, '=', value).limit(500).execute();
      if (rows.length === 0) return count;
      await writeObjects(store.db, d.changes, { projectId, environment }, async (db) => {
        const gone = (await db.deleteFrom('storage_objects').where('id', 'in', rows.map((r) => r.id)).returningAll().execute()).map(toObjectRow);
        return { result: null, changes: deleted(gone) };
      });
      await Promise.all(rows.map((r) => backend.remove(r.version).catch(() => undefined)));
      count += rows.length;
    }
  }

  return {
    visible,
    visibleMany,
    async list(actor: Actor, bucketId: string, options: ListOptions) {
      const bucket = await buckets.required(actor, bucketId);
      return listObjects(store, actor, bucket.id, bucket.ruleSet, options);
    },
    async listV2(actor: Actor, bucketId: string, options: ListV2Options) {
      const bucket = await buckets.required(actor, bucketId);
      return listObjectsV2(store, actor, bucket.id, bucket.ruleSet, options);
    },

    /** Removes what the caller may delete among `names`; the rest (missing or not its own) is skipped alike. */
    async remove(actor: Actor, bucketId: string, names: unknown): Promise<ObjectRow[]> {
      const bucket = await buckets.required(actor, bucketId);
      if (!Array.isArray(names) || names.length === 0 || names.length > MAX_REMOVE) {
        throw new GatehouseError('validation_failed', { message: `prefixes must list 1 to ${MAX_REMOVE} object names.` });
      }
      // A malformed name refuses the whole request (400), before anything is removed.
      const checked = names.map((name) => checkObjectName(name));
      const deletable = [...(await visibleMany(actor, bucket, checked, 'delete')).values()];
      if (deletable.length === 0) return [];
      // One statement for all rows, each only at the version read (one replaced meanwhile stays).
      const gone = new Set<string>();
      for (let i = 0; i < deletable.length; i += 500) {
        const batch = deletable.slice(i, i + 500);
        await writeObjects(store.db, d.changes, actor, async (db) => {
          const rows = (await db.deleteFrom('storage_objects')
            .where((eb) => eb.or(batch.map((row) => eb.and([eb('id', '=', row.id), eb('version', '=', row.version)]))))
            .returningAll().execute()).map(toObjectRow);
          for (const { id } of rows) gone.add(id);
          return { result: null, changes: deleted(rows) };
        });
      }
      const removed = deletable.filter((row) => gone.has(row.id));
      await Promise.all(removed.map((row) => backend.remove(row.version).catch(() => undefined)));
      // In the order the caller named them, as before.
      const order = new Map<string, number>();
      checked.forEach((name, i) => { if (!order.has(name)) order.set(name, i); });
      return removed.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    },

    /** Move: select and delete on the source, insert at the destination; the bytes stay where they are. */
    async move(actor: Actor, input: Parameters<typeof transferEnds>[1]): Promise<void> {
      const { from, to, source, destination } = await transferEnds(actor, input);
      const row = await visible(actor, from, source, 'delete');
      await checkDestination(actor, to, destination, row.owner, row);
      const folders = foldersOf(destination);
      try {
        await writeObjects(store.db, d.changes, actor, async (db) => {
          const moved = await db.updateTable('storage_objects')
            .set({ bucket_id: to.id, name: destination, folder_0: folders[0] ?? null, folder_1: folders[1] ?? null, folder_2: folders[2] ?? null, folder_3: folders[3] ?? null, updated_at: isoNow(clock) })
            // Only from where it was read: a move that raced another move or a replacement is "not found".
            .where('id', '=', row.id).where('version', '=', row.version).where('bucket_id', '=', row.bucket_id).where('name', '=', row.name)
            .returningAll().executeTakeFirst();
          if (!moved) throw new GatehouseError('storage_object_not_found');
          const after = toObjectRow(moved);
          // Only place and time changed; the rest is the row as it is now (same version and place as read).
          const before: ObjectRow = { ...after, bucket_id: row.bucket_id, name: row.name, folder_0: row.folder_0, folder_1: row.folder_1, folder_2: row.folder_2, folder_3: row.folder_3, updated_at: row.updated_at };
          return { result: null, changes: [{ type: 'UPDATE', record: objectRecord(after), old: objectRecord(before) }] };
        });
      } catch (error) {
        if (await store.getObject(actor.projectId, actor.environment, to.id, destination)) throw new GatehouseError('storage_object_exists');
        throw error;
      }
    },

    /** Copy: select on the source, insert at the destination; the copy belongs to the caller. */
    async copy(actor: Actor, input: Parameters<typeof transferEnds>[1]): Promise<ObjectRow> {
      const { from, to, source, destination } = await transferEnds(actor, input);
      const row = await visible(actor, from, source);
      await checkDestination(actor, to, destination, actor.userId, row);
      // The copy is the caller's: it counts against their quota like an upload of its size.
      if (row.size > await quotaRoom(store, d.quota, actor, null)) throw new GatehouseError('storage_quota_exceeded');
      const key = newBlobKey();
      await backend.copy(row.version, key);
      const now = isoNow(clock);
      const folders = foldersOf(destination);
      const copy: ObjectRow = {
        ...row, id: newId('obj'), bucket_id: to.id, name: destination, folder_0: folders[0] ?? null, folder_1: folders[1] ?? null,
        folder_2: folders[2] ?? null, folder_3: folders[3] ?? null, owner: actor.userId, version: key, created_at: now, updated_at: now,
      };
      try {
        await writeObjects(store.db, d.changes, actor, async (db) => {
          await db.insertInto('storage_objects').values(copy).execute();
          return { result: null, changes: [{ type: 'INSERT', record: objectRecord(copy), old: null }] };
        });
      } catch (error) {
        await backend.remove(key).catch(() => undefined);
        if (await store.getObject(actor.projectId, actor.environment, to.id, destination)) throw new GatehouseError('storage_object_exists');
        throw error;
      }
      return copy;
    },

    /** Every object of a bucket (admin). */
    async empty(actor: Actor, bucketId: string): Promise<number> {
      const bucket = await buckets.required(actor, bucketId);
      const count = await removeAll(actor.projectId, actor.environment, 'bucket_id', bucket.id);
      await d.audit.write({ projectId: actor.projectId, environment: actor.environment, actor: actor.actor, action: 'storage.bucket.empty', target: bucket.id, details: { objects: count } });
      return count;
    },

    /** The objects of a deleted user: removed, or kept without an owner (config storage.onUserDelete). */
    async forgetOwner(projectId: string, environment: string, userId: string, mode: 'delete' | 'keep', actor: string): Promise<number> {
      let count = 0;
      if (mode === 'keep') {
        count = await writeObjects(store.db, d.changes, { projectId, environment }, async (db) => {
          const kept = (await db.updateTable('storage_objects').set({ owner: null })
            .where('project_id', '=', projectId).where('environment', '=', environment).where('owner', '=', userId).returningAll().execute()).map(toObjectRow);
          const changes: ObjectChange[] = kept.map((row) => ({ type: 'UPDATE', record: objectRecord(row), old: objectRecord({ ...row, owner: userId }) }));
          return { result: kept.length, changes };
        });
      } else {
        count = await removeAll(projectId, environment, 'owner', userId);
      }
      await d.audit.write({ projectId, environment, actor, action: mode === 'keep' ? 'storage.user_objects.kept' : 'storage.user_objects.deleted', target: `user:${userId}`, details: { objects: count } });
      return count;
    },
  };
}

export type ObjectService = ReturnType<typeof createObjectService>;

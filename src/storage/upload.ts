import type { Readable } from 'node:stream';
import { GatehouseError } from '../errors/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { BlobBackend } from './backends/backend.js';
import { newBlobKey } from './backends/keys.js';
import type { Actor } from './context.js';
import { UploadInspector } from './ingest.js';
import { mediaType, mimeAllowed, sniffedType } from './mime.js';
import { checkObjectName, foldersOf } from './paths.js';
import { decideWrite, type WriteIntent } from './write-rules.js';
import { toObjectRow, type Bucket, type ObjectRow, type StorageStore } from './store.js';
import { objectRecord, writeObjects, type ObjectChangeSink } from './changes.js';
import { quotaRoom, type UserQuota } from './quota.js';

// One upload: decide everything that can be decided before the body (bucket, name, rules, declared
// size and type, quota), then stream the body once to the backend under a fresh key, check what the
// bytes turned out to be, and only then point the object's row at the new key. The row switch is
// the commit: readers see the old bytes or the new ones, never a mix, and a failed upload leaves
// the old object as it was.

export interface UploadBody {
  stream: Readable;
  contentType: string | undefined;
  /** Content-Length when the client sent one: an over-size body is refused before it is read. */
  declaredBytes: number | undefined;
  cacheControl: string | undefined;
  metadata: Record<string, unknown> | undefined;
}

export interface UploadMode extends WriteIntent {
  /** Signed upload: the version the token was made for ('' = no object then). */
  expectVersion?: string;
}

export interface UploadDeps {
  store: StorageStore;
  backend: BlobBackend;
  clock: Clock;
  maxObjectBytes: number;
  quota: UserQuota;
  /** Told of every committed object write (realtime); null: nobody listens. */
  changes: ObjectChangeSink | null;
}

/** `3600` or `max-age=3600` → `max-age=3600`; anything else → the default hour. */
export function normaliseCacheControl(value: string | undefined): string {
  const match = value === undefined ? null : /^(?:max-age=)?(\d{1,9})$/.exec(value.trim());
  return `max-age=${match ? match[1] : '3600'}`;
}

export function createUploader(d: UploadDeps) {
  const { store, backend, clock } = d;

  return async function upload(actor: Actor, bucket: Bucket, rawName: string, mode: UploadMode, body: UploadBody): Promise<ObjectRow> {
    const name = checkObjectName(rawName);
    const existing = await store.getObject(actor.projectId, actor.environment, bucket.id, name);
    if (mode.expectVersion !== undefined && (existing?.version ?? '') !== mode.expectVersion) {
      throw new GatehouseError('storage_invalid_signature', { details: { reason: 'object_changed' } });
    }
    decideWrite(bucket.ruleSet, actor, bucket.id, name, existing, mode, body.metadata);
    const declaredType = mediaType(body.contentType) ?? 'application/octet-stream';
    if (!mimeAllowed(bucket.allowedMimeTypes, declaredType)) throw mimeRefused(declaredType);
    const sizeLimit = Math.min(d.maxObjectBytes, bucket.fileSizeLimit ?? Infinity);
    const tooLarge = () => new GatehouseError('storage_entity_too_large', { details: { limit_bytes: sizeLimit } });
    if (body.declaredBytes !== undefined && body.declaredBytes > sizeLimit) throw tooLarge();
    const room = await quotaRoom(store, d.quota, actor, existing);
    if (body.declaredBytes !== undefined && body.declaredBytes > room) throw new GatehouseError('storage_quota_exceeded');
    const limit = Math.min(sizeLimit, room);
    const inspector = new UploadInspector(limit, () => (limit < sizeLimit ? new GatehouseError('storage_quota_exceeded') : tooLarge()));

    const key = newBlobKey();
    // Not pipeline(): on 413 it would destroy the request, and the client would see a reset instead
    // of the answer. The source is only unpiped; the reply says Connection: close.
    body.stream.on('error', (error) => inspector.destroy(error));
    body.stream.pipe(inspector);
    try {
      await backend.put(key, inspector, declaredType);
    } catch (error) {
      body.stream.unpipe(inspector);
      throw error;
    }
    try {
      // The bytes must be an allowed type too: a header is only the client's claim. Without an
      // allowlist nothing reads the sniffed type, so the bytes are not sniffed.
      const sniffed = bucket.allowedMimeTypes ? await sniffedType(inspector.head()) : null;
      if (bucket.allowedMimeTypes && sniffed && !mimeAllowed(bucket.allowedMimeTypes, sniffed)) throw mimeRefused(sniffed);
      const now = isoNow(clock);
      const folders = foldersOf(name);
      const fields = {
        version: key, size: inspector.bytes, mimetype: declaredType, etag: inspector.etag(),
        cache_control: normaliseCacheControl(body.cacheControl), metadata: body.metadata ? JSON.stringify(body.metadata) : null, updated_at: now,
      };
      const scope = { projectId: actor.projectId, environment: actor.environment };
      if (existing) {
        // Only if nobody replaced it meanwhile: of two concurrent replacements one wins, whole.
        const replaced = await writeObjects(store.db, d.changes, scope, async (db) => {
          const after = await db.updateTable('storage_objects').set(fields)
            .where('id', '=', existing.id).where('version', '=', existing.version).returningAll().executeTakeFirst();
          if (!after) throw new GatehouseError('storage_object_exists', { message: 'The object was changed by another upload at the same time.' });
          const row = toObjectRow(after);
          // The columns this update did not set are as they were (the version matched).
          const before: ObjectRow = { ...row, version: existing.version, size: existing.size, mimetype: existing.mimetype, etag: existing.etag, cache_control: existing.cache_control, metadata: existing.metadata, updated_at: existing.updated_at };
          return { result: row, changes: [{ type: 'UPDATE', record: objectRecord(row), old: objectRecord(before) }] };
        });
        await backend.remove(existing.version).catch(() => undefined);
        return replaced;
      }
      const row: ObjectRow = {
        id: newId('obj'), project_id: actor.projectId, environment: actor.environment, bucket_id: bucket.id, name,
        folder_0: folders[0] ?? null, folder_1: folders[1] ?? null, folder_2: folders[2] ?? null, folder_3: folders[3] ?? null,
        owner: actor.userId, created_at: now, ...fields,
      };
      try {
        await writeObjects(store.db, d.changes, scope, async (db) => {
          await db.insertInto('storage_objects').values(row).execute();
          return { result: null, changes: [{ type: 'INSERT', record: objectRecord(row), old: null }] };
        });
      } catch (error) {
        // Two first uploads of one name: the unique key lets one in; the other hears "exists".
        if (await store.getObject(actor.projectId, actor.environment, bucket.id, name)) throw new GatehouseError('storage_object_exists');
        throw error;
      }
      return row;
    } catch (error) {
      await backend.remove(key).catch(() => undefined);
      throw error;
    }
  };
}

function mimeRefused(type: string): GatehouseError {
  return new GatehouseError('storage_mime_type_not_allowed', { message: `mime type ${type.slice(0, 100)} is not supported by this bucket`, details: { type: type.slice(0, 100) } });
}

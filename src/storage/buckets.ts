import { GatehouseError } from '../errors/index.js';
import type { AuditLog } from '../observability/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import type { BlobBackend } from './backends/backend.js';
import type { Actor } from './context.js';
import { checkAllowlist } from './mime.js';
import { checkBucketId } from './paths.js';
import { parseBucketRules, STORAGE_OPERATIONS, type BucketRules, type BucketRuleSources } from './rules.js';
import type { Bucket, StorageStore } from './store.js';

// Buckets: admin only (the routes require a secret key or an admin user). Their JSON is
// storage-api's, plus `rules`.

export interface BucketInput {
  public?: unknown;
  file_size_limit?: unknown;
  allowed_mime_types?: unknown;
  rules?: unknown;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** storage-js sends a number of bytes or a string such as "20MB". */
export function parseSizeLimit(value: unknown, max: number): number | null {
  if (value === undefined || value === null || value === '') return null;
  let bytes: number | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) bytes = value;
  if (typeof value === 'string') {
    const match = /^(\d{1,13})\s*(b|kb|mb|gb)?$/i.exec(value.trim());
    if (match) bytes = Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!;
  }
  if (bytes === undefined || bytes <= 0) throw new GatehouseError('validation_failed', { message: 'file_size_limit must be a positive number of bytes or a size such as "20MB".' });
  if (bytes > max) throw new GatehouseError('validation_failed', { message: `file_size_limit may not exceed the server's limit of ${max} bytes.`, details: { max } });
  return bytes;
}

function checkRules(value: unknown): { rules: BucketRuleSources | null; ruleSet: BucketRules } {
  if (value === undefined || value === null) return { rules: null, ruleSet: parseBucketRules(null) };
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).some((k) => !(STORAGE_OPERATIONS as readonly string[]).includes(k))) {
    throw new GatehouseError('validation_failed', { message: 'rules must be an object with select, insert, update and/or delete lists.' });
  }
  return { rules: value as BucketRuleSources, ruleSet: parseBucketRules(value as BucketRuleSources) };
}

export function bucketJson(b: Bucket) {
  return {
    id: b.id, name: b.id, owner: b.owner ?? '', public: b.public, type: 'STANDARD',
    file_size_limit: b.fileSizeLimit, allowed_mime_types: b.allowedMimeTypes, rules: b.rules,
    created_at: b.createdAt, updated_at: b.updatedAt,
  };
}

export function createBucketService(d: {
  store: StorageStore; clock: Clock; audit: AuditLog; backend: BlobBackend; maxObjectBytes: number;
  /** After a bucket is written: caches of it (read-access.ts) forget it. */
  changed?: (projectId: string, environment: string, id: string) => void;
}) {
  const { store, clock, audit, maxObjectBytes } = d;

  async function required(actor: Actor, id: string): Promise<Bucket> {
    const bucket = await store.getBucket(actor.projectId, actor.environment, checkBucketId(id));
    if (!bucket) throw new GatehouseError('storage_bucket_not_found');
    return bucket;
  }

  async function publicIdFree(bucket: Bucket): Promise<void> {
    if (!bucket.public) return;
    const holder = await store.getPublicBucket(bucket.id);
    if (holder && (holder.projectId !== bucket.projectId || holder.environment !== bucket.environment)) {
      throw new GatehouseError('storage_bucket_exists', { message: 'Another environment of this server already has a public bucket of this id: public URLs carry no key, so public bucket ids are unique per server. Pick another id.' });
    }
  }

  return {
    required,
    list: (actor: Actor) => store.listBuckets(actor.projectId, actor.environment),
    async create(actor: Actor, input: BucketInput & { id?: unknown; name?: unknown }): Promise<Bucket> {
      const id = checkBucketId(input.id ?? input.name);
      const now = isoNow(clock);
      const bucket: Bucket = {
        projectId: actor.projectId, environment: actor.environment, id, public: input.public === true,
        fileSizeLimit: parseSizeLimit(input.file_size_limit, maxObjectBytes), allowedMimeTypes: checkAllowlist(input.allowed_mime_types),
        ...checkRules(input.rules), owner: actor.userId, createdAt: now, updatedAt: now,
      };
      if (await store.getBucket(actor.projectId, actor.environment, id)) throw new GatehouseError('storage_bucket_exists');
      await publicIdFree(bucket);
      try {
        await store.insertBucket(bucket);
      } catch (error) {
        // A concurrent create of the same id (or public id) lost the race to the unique key.
        if (await store.getBucket(actor.projectId, actor.environment, id) || (bucket.public && await store.getPublicBucket(id))) throw new GatehouseError('storage_bucket_exists');
        throw error;
      }
      d.changed?.(actor.projectId, actor.environment, id);
      await audit.write({ projectId: actor.projectId, environment: actor.environment, actor: actor.actor, action: 'storage.bucket.create', target: id, details: { public: bucket.public } });
      return bucket;
    },
    async update(actor: Actor, id: string, input: BucketInput): Promise<Bucket> {
      const current = await required(actor, id);
      const next: Bucket = {
        ...current,
        public: input.public === undefined ? current.public : input.public === true,
        fileSizeLimit: input.file_size_limit === undefined ? current.fileSizeLimit : parseSizeLimit(input.file_size_limit, maxObjectBytes),
        allowedMimeTypes: input.allowed_mime_types === undefined ? current.allowedMimeTypes : checkAllowlist(input.allowed_mime_types),
        ...(input.rules === undefined ? {} : checkRules(input.rules)),
        updatedAt: isoNow(clock),
      };
      await publicIdFree(next);
      await store.updateBucket(next);
      d.changed?.(actor.projectId, actor.environment, next.id);
      await audit.write({ projectId: actor.projectId, environment: actor.environment, actor: actor.actor, action: 'storage.bucket.update', target: id, details: { public: next.public } });
      return next;
    },
    async remove(actor: Actor, id: string): Promise<void> {
      const bucket = await required(actor, id);
      if (await store.hasObjects(actor.projectId, actor.environment, bucket.id)) throw new GatehouseError('storage_bucket_not_empty');
      await store.deleteBucket(actor.projectId, actor.environment, bucket.id);
      d.changed?.(actor.projectId, actor.environment, bucket.id);
      await audit.write({ projectId: actor.projectId, environment: actor.environment, actor: actor.actor, action: 'storage.bucket.delete', target: id });
    },
  };
}

export type BucketService = ReturnType<typeof createBucketService>;

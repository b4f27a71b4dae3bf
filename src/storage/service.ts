import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/index.js';
import { GatehouseError } from '../errors/index.js';
import type { SigningKeyService } from '../identity/jwt/index.js';
import type { AuditLog } from '../observability/index.js';
import type { Clock } from '../shared/clock.js';
import type { BlobBackend } from './backends/backend.js';
import { createLocalBackend } from './backends/local.js';
import { createS3Backend } from './backends/s3.js';
import { createBucketService } from './buckets.js';
import { signedUploader, type Actor } from './context.js';
import { createObjectService } from './objects.js';
import { checkObjectName, nameProblem } from './paths.js';
import { decideWrite } from './write-rules.js';
import { createUrlSigner } from './signing.js';
import { createStorageStore, type ObjectRow } from './store.js';
import { createUploader, type UploadBody } from './upload.js';
import type { ObjectChangeSink } from './changes.js';
import { createObjectReadAccess } from './read-access.js';

export interface StorageServiceDeps {
  config: Readonly<Config>;
  storage: Storage;
  clock: Clock;
  audit: AuditLog;
  signingKeys: SigningKeyService;
  /** Told of every committed object write (realtime, issue 16); absent: nobody listens. */
  changes?: ObjectChangeSink;
  /** Default: S3 when storage.s3 is set, else the local disk under storage.dir (or <dataDir>/storage). */
  backend?: BlobBackend;
}

const NOT_VISIBLE = 'Either the object does not exist or you do not have access to it';

export function createStorageService(d: StorageServiceDeps) {
  const { config, clock, audit } = d;
  const settings = config.storage;
  const store = createStorageStore(d.storage.db, d.storage.capabilities.json);
  const backend = d.backend ?? (settings.s3
    ? createS3Backend(settings.s3)
    : createLocalBackend({ dir: settings.dir ?? join(config.dataDir, 'storage') }));
  const readAccess = createObjectReadAccess({ store, clock });
  const buckets = createBucketService({ store, clock, audit, backend, maxObjectBytes: settings.maxObjectBytes, changed: readAccess.forget });
  const quota = { bytes: settings.userQuotaBytes, objects: settings.userQuotaObjects };
  const changes = d.changes ?? null;
  const objects = createObjectService({ store, backend, buckets, clock, audit, quota, changes });
  const upload = createUploader({ store, backend, clock, maxObjectBytes: settings.maxObjectBytes, quota, changes });
  const signer = createUrlSigner({ keys: d.signingKeys, clock });

  function expiry(value: unknown): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > settings.signedUrlMaxSeconds) {
      throw new GatehouseError('validation_failed', { message: `expiresIn must be a whole number of seconds from 1 to ${settings.signedUrlMaxSeconds}.` });
    }
    return value;
  }

  const signedPath = (bucket: string, name: string, token: string) => `/object/sign/${bucket}/${name}?token=${token}`;
  const downloadToken = (actor: Actor, row: ObjectRow, seconds: number) => signer.sign({
    projectId: actor.projectId, environment: actor.environment, bucket: row.bucket_id, name: row.name, op: 'download', version: row.version, owner: null, upsert: false, admin: false,
  }, seconds);

  return {
    backend,
    buckets,
    objects,
    /** Who may select which object, in memory: for listeners of `changes`. */
    readAccess,
    async upload(actor: Actor, bucketId: string, name: string, mode: { upsert: boolean; replaceOnly: boolean }, body: UploadBody): Promise<ObjectRow> {
      const bucket = await buckets.required(actor, bucketId);
      const row = await upload(actor, bucket, name, mode, body);
      return row;
    },
    async read(actor: Actor, bucketId: string, name: string): Promise<ObjectRow> {
      return objects.visible(actor, await buckets.required(actor, bucketId), name);
    },
    /** A public bucket's object, without a key: the bucket id names it on the whole server. */
    async readPublic(bucketId: string, name: string): Promise<ObjectRow> {
      const bucket = await store.getPublicBucket(bucketId);
      if (!bucket) throw new GatehouseError('storage_bucket_not_found');
      const row = await store.getObject(bucket.projectId, bucket.environment, bucket.id, checkObjectName(name));
      if (!row) throw new GatehouseError('storage_object_not_found');
      return row;
    },
    async sign(actor: Actor, bucketId: string, name: string, expiresIn: unknown): Promise<string> {
      const seconds = expiry(expiresIn);
      const row = await objects.visible(actor, await buckets.required(actor, bucketId), name);
      const token = await downloadToken(actor, row, seconds);
      return signedPath(row.bucket_id, row.name, token);
    },
    async signMany(actor: Actor, bucketId: string, paths: unknown, expiresIn: unknown) {
      const seconds = expiry(expiresIn);
      if (!Array.isArray(paths) || paths.length === 0 || paths.length > 1000) throw new GatehouseError('validation_failed', { message: 'paths must list 1 to 1000 object names.' });
      const bucket = await buckets.required(actor, bucketId);
      // All names in one read; a malformed, missing or hidden one gets the same error entry.
      const valid = paths.filter((path): path is string => nameProblem(path) === null);
      const rows = await objects.visibleMany(actor, bucket, valid);
      return Promise.all(paths.map(async (path) => {
        const row = typeof path === 'string' ? rows.get(path) : undefined;
        if (!row) return { path: typeof path === 'string' ? path : null, signedURL: null, error: NOT_VISIBLE };
        return { path: row.name, signedURL: signedPath(row.bucket_id, row.name, await downloadToken(actor, row, seconds)), error: null };
      }));
    },
    /** The object a signed download URL opens, if the token is for it and it has not changed since. */
    async readSigned(token: unknown, bucketId: string, name: string): Promise<ObjectRow> {
      const claims = await signer.verify(token, { bucket: bucketId, name, op: 'download' });
      const row = await store.getObject(claims.projectId, claims.environment, bucketId, name);
      if (!row || row.version !== claims.version) throw new GatehouseError('storage_invalid_signature', { details: { reason: 'object_changed' } });
      return row;
    },
    async signUpload(actor: Actor, bucketId: string, name: string, upsert: boolean): Promise<{ url: string; token: string }> {
      const bucket = await buckets.required(actor, bucketId);
      checkObjectName(name);
      const existing = await store.getObject(actor.projectId, actor.environment, bucket.id, name);
      // Decided as the uploader the URL will act as, by the upload's own rule check (no metadata yet).
      const admin = actor.auth.group === 'admin';
      decideWrite(bucket.ruleSet, signedUploader(actor.projectId, actor.environment, actor.userId, admin), bucket.id, name, existing, { upsert, replaceOnly: false }, undefined);
      // Bound to the version there now: the URL uploads once, and not over a later object.
      const token = await signer.sign({ projectId: actor.projectId, environment: actor.environment, bucket: bucket.id, name, op: 'upload', version: existing?.version ?? '', owner: actor.userId, upsert, admin }, settings.signedUploadSeconds);
      return { url: `/object/upload/sign/${bucket.id}/${name}?token=${token}`, token };
    },
    async uploadSigned(token: unknown, bucketId: string, name: string, body: UploadBody): Promise<ObjectRow> {
      const claims = await signer.verify(token, { bucket: bucketId, name, op: 'upload' });
      const actor = signedUploader(claims.projectId, claims.environment, claims.owner, claims.admin);
      const bucket = await buckets.required(actor, bucketId);
      return upload(actor, bucket, name, { upsert: claims.upsert, replaceOnly: false, expectVersion: claims.version }, body);
    },
    /** A deleted user's objects, as storage.onUserDelete says; returns how many. */
    forgetUser(projectId: string, environment: string, userId: string, actor: string): Promise<number> {
      return objects.forgetOwner(projectId, environment, userId, settings.onUserDelete, actor);
    },
    async close(): Promise<void> {
      await backend.close();
    },
  };
}

export type StorageService = ReturnType<typeof createStorageService>;

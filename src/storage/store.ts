import type { Kysely, Selectable } from 'kysely';
import type { Database, EngineCapabilities } from '../db/index.js';
import { rulesFromText, type BucketRules, type BucketRuleSources } from './rules.js';
import type { StorageBucketsTable, StorageObjectsTable } from './tables.js';

// Rows in, records out; no HTTP, no rules (the service decides who may see what).

export interface Bucket {
  projectId: string;
  environment: string;
  id: string;
  public: boolean;
  fileSizeLimit: number | null;
  allowedMimeTypes: string[] | null;
  rules: BucketRuleSources | null;
  /** `rules` parsed (absent: the defaults), made once per distinct rule text (rules.ts). */
  ruleSet: BucketRules;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ObjectRow = Omit<Selectable<StorageObjectsTable>, 'size'> & { size: number };

export function toBucket(row: Selectable<StorageBucketsTable>): Bucket {
  const { sources, rules } = rulesFromText(row.rules);
  return {
    projectId: row.project_id,
    environment: row.environment,
    id: row.id,
    public: row.public === 1,
    fileSizeLimit: row.file_size_limit === null ? null : Number(row.file_size_limit),
    allowedMimeTypes: row.allowed_mime_types === null ? null : (JSON.parse(row.allowed_mime_types) as string[]),
    rules: sources,
    ruleSet: rules,
    owner: row.owner,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toObjectRow(row: Selectable<StorageObjectsTable>): ObjectRow {
  return { ...row, size: Number(row.size) };
}

/** Names bound in one `in (…)`: well under SQLite's and PostgreSQL's limits on bound values. */
const NAMES_PER_QUERY = 500;

export function createStorageStore(db: Kysely<Database>, json: EngineCapabilities['json']) {
  const buckets = (projectId: string, environment: string) =>
    db.selectFrom('storage_buckets').selectAll().where('project_id', '=', projectId).where('environment', '=', environment);
  return {
    db,
    /** How rules read the metadata column in SQL on this engine. */
    json,
    async listBuckets(projectId: string, environment: string): Promise<Bucket[]> {
      return (await buckets(projectId, environment).orderBy('id').limit(1000).execute()).map(toBucket);
    },
    async getBucket(projectId: string, environment: string, id: string): Promise<Bucket | null> {
      const row = await buckets(projectId, environment).where('id', '=', id).executeTakeFirst();
      return row ? toBucket(row) : null;
    },
    /** A public bucket by its id alone: public URLs carry no key (see the migration). */
    async getPublicBucket(id: string): Promise<Bucket | null> {
      const row = await db.selectFrom('storage_buckets').selectAll().where('public_id', '=', id).executeTakeFirst();
      return row ? toBucket(row) : null;
    },
    async insertBucket(bucket: Bucket): Promise<void> {
      await db.insertInto('storage_buckets').values(bucketValues(bucket)).execute();
    },
    async updateBucket(bucket: Bucket): Promise<void> {
      const { project_id, environment, id, created_at: _created, ...rest } = bucketValues(bucket);
      await db.updateTable('storage_buckets').set(rest)
        .where('project_id', '=', project_id).where('environment', '=', environment).where('id', '=', id).execute();
    },
    async deleteBucket(projectId: string, environment: string, id: string): Promise<void> {
      await db.deleteFrom('storage_buckets').where('project_id', '=', projectId).where('environment', '=', environment).where('id', '=', id).execute();
    },
    async hasObjects(projectId: string, environment: string, bucketId: string): Promise<boolean> {
      const row = await db.selectFrom('storage_objects').select('id')
        .where('project_id', '=', projectId).where('environment', '=', environment).where('bucket_id', '=', bucketId).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async getObject(projectId: string, environment: string, bucketId: string, name: string): Promise<ObjectRow | null> {
      const row = await db.selectFrom('storage_objects').selectAll()
        .where('project_id', '=', projectId).where('environment', '=', environment).where('bucket_id', '=', bucketId).where('name', '=', name)
        .executeTakeFirst();
      return row ? toObjectRow(row) : null;
    },
    /** The objects of a bucket among `names`, in one query per 500 names (no order). */
    async getObjects(projectId: string, environment: string, bucketId: string, names: readonly string[]): Promise<ObjectRow[]> {
      const rows: ObjectRow[] = [];
      for (let i = 0; i < names.length; i += NAMES_PER_QUERY) {
        const batch = await db.selectFrom('storage_objects').selectAll()
          .where('project_id', '=', projectId).where('environment', '=', environment).where('bucket_id', '=', bucketId)
          .where('name', 'in', names.slice(i, i + NAMES_PER_QUERY))
          .execute();
        rows.push(...batch.map(toObjectRow));
      }
      return rows;
    },
    /** Bytes and objects a user owns in an environment, for quotas. */
    async usageOf(projectId: string, environment: string, owner: string): Promise<{ bytes: number; objects: number }> {
      const row = await db.selectFrom('storage_objects')
        .select((eb) => [eb.fn.coalesce(eb.fn.sum<number | string>('size'), eb.lit(0)).as('bytes'), eb.fn.countAll<number | string>().as('objects')])
        .where('project_id', '=', projectId).where('environment', '=', environment).where('owner', '=', owner)
        .executeTakeFirstOrThrow();
      return { bytes: Number(row.bytes), objects: Number(row.objects) };
    },
  };
}

export type StorageStore = ReturnType<typeof createStorageStore>;

function bucketValues(b: Bucket): StorageBucketsTable {
  return {
    project_id: b.projectId,
    environment: b.environment,
    id: b.id,
    public: b.public ? 1 : 0,
    public_id: b.public ? b.id : null,
    file_size_limit: b.fileSizeLimit,
    allowed_mime_types: b.allowedMimeTypes === null ? null : JSON.stringify(b.allowedMimeTypes),
    rules: b.rules === null ? null : JSON.stringify(b.rules),
    owner: b.owner,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
  };
}

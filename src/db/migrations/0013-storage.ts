import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { EngineName } from '../database.js';

// File storage (issue #15): buckets and the metadata of their objects. The bytes live in a backend
// (local disk or S3) under `version`, a random server-made key: a client's object name is never a
// path on disk. A replaced object gets a new version, so a signed URL bound to the old one stops.
// `folder_0`…`folder_3` are the first folders of the name, kept beside it so that rules such as
// `folder[0] == auth.uid` compile to plain column comparisons on both engines.
export const storageMigration = (engine: EngineName): Migration => ({ up: (db) => up(db, engine), down });

// Names compare and sort by bytes on both engines (SQLite's BINARY): listings page by name, and
// every name under a folder must sit together for the folder skip of the listing.
const byteOrder = (engine: EngineName) => (c: ColumnDefinitionBuilder) =>
  engine === 'postgres' ? c.notNull().modifyFront(sql`collate "C"`) : c.notNull();

async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  await db.schema
    .createTable('storage_buckets')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('public', 'integer', (c) => c.notNull().defaultTo(0))
    /** The bucket id while the bucket is public, else null: public URLs carry no key, so a public id names one bucket of the instance. */
    .addColumn('public_id', 'text', (c) => c.unique())
    .addColumn('file_size_limit', 'bigint')
    /** JSON array of MIME types or `type/*`; null: any. */
    .addColumn('allowed_mime_types', 'text')
    /** JSON { select, insert, update, delete: string[] } in the Data API's rule grammar; null: owner only. */
    .addColumn('rules', 'text')
    .addColumn('owner', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('storage_buckets_pk', ['project_id', 'environment', 'id'])
    .execute();
  await db.schema
    .createTable('storage_objects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('bucket_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', byteOrder(engine))
    .addColumn('folder_0', 'text')
    .addColumn('folder_1', 'text')
    .addColumn('folder_2', 'text')
    .addColumn('folder_3', 'text')
    /** The user who created it; null when a secret key did. */
    .addColumn('owner', 'text')
    .addColumn('version', 'text', (c) => c.notNull().unique())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mimetype', 'text', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('cache_control', 'text')
    /** JSON of the client's user metadata. */
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('storage_objects_name', ['project_id', 'environment', 'bucket_id', 'name'])
    .execute();
  await db.schema.createIndex('storage_objects_owner').on('storage_objects').columns(['project_id', 'environment', 'owner']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('storage_objects').execute();
  await db.schema.dropTable('storage_buckets').execute();
}

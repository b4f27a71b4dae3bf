import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';
import { autoIncrementPk } from './ddl.js';

// Written with Kysely's schema builder so one migration serves SQLite and
// PostgreSQL; the engine is passed only for the DDL that truly differs.
export const coreMigration = (engine: EngineName): Migration => ({ up: (db) => up(db, engine), down });

async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('environments')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('cors_origins', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('environments_pk', ['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('last_four', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('replaced_by', 'text')
    .addForeignKeyConstraint('api_keys_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('api_keys_project_env').on('api_keys').columns(['project_id', 'environment']).execute();

  await db.schema
    .createTable('data_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('data_keys_scope').on('data_keys').columns(['scope', 'created_at']).execute();

  await db.schema
    .createTable('security_events')
    .addColumn('id', 'integer', (c) => autoIncrementPk(engine, c))
    .addColumn('project_id', 'text')
    .addColumn('environment', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('security_events_scope').on('security_events').columns(['project_id', 'environment', 'id']).execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (c) => autoIncrementPk(engine, c))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_scope').on('audit_log').columns(['project_id', 'environment', 'id']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_log', 'security_events', 'data_keys', 'api_keys', 'environments', 'projects']) {
    await db.schema.dropTable(table).execute();
  }
}

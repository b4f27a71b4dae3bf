import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Rate limits (issue 6): per project environment policy changes and per-user / per-key
// overrides, read by every instance through a short cache so changes apply without a restart.
export const limitsMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limit_policies')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_policies_pk', ['project_id', 'environment'])
    .addForeignKeyConstraint('rate_limit_policies_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('rate_limit_overrides')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('limits', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_overrides_pk', ['project_id', 'environment', 'subject'])
    .addForeignKeyConstraint('rate_limit_overrides_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_overrides').execute();
  await db.schema.dropTable('rate_limit_policies').execute();
}

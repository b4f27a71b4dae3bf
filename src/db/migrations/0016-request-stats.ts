import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// The dashboard's charts (issue 17): responses per minute and signed-in users per five minutes,
// per project environment, written by the background writer (observability/request-stats.ts).
// Times are unix seconds, not ISO text like other tables: the series query groups them into
// buckets by integer division, the same SQL on both engines.
export const requestStatsMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('request_stats')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('minute', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('errors_4xx', 'bigint', (c) => c.notNull())
    .addColumn('errors_5xx', 'bigint', (c) => c.notNull())
    .addColumn('rate_limited', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_stats_pk', ['project_id', 'environment', 'minute'])
    .addForeignKeyConstraint('request_stats_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('request_stats_minute').on('request_stats').column('minute').execute();

  await db.schema
    .createTable('active_users')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('slot', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('active_users_pk', ['project_id', 'environment', 'slot', 'user_id'])
    .addForeignKeyConstraint('active_users_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('active_users_slot').on('active_users').column('slot').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('active_users').execute();
  await db.schema.dropTable('request_stats').execute();
}

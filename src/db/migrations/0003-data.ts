import type { Kysely, Migration } from 'kysely';

// Metadata of the Data API: one row per user table of a project environment.
// The user tables themselves are created by the schema planner (src/data/schema).
export const dataMigration = (): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('data_tables')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('physical_name', 'text', (c) => c.notNull().unique())
    /** JSON of the table's spec (columns, rules) as last applied. */
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('data_tables_pk', ['project_id', 'environment', 'name'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('data_tables').execute();
}

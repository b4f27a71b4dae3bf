import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Realtime row changes (issue 16): one counter per user table, bumped inside every Data API write's
// transaction as its last statement. The row lock it takes makes the numbers follow commit order
// per table (a rolled-back write rolls its number back too), so every instance can put the
// changes it receives from the bus back in commit order.
export const realtimeMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('realtime_sequences')
    /** The user table's physical name (it already names the project and environment). */
    .addColumn('physical', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('realtime_sequences').execute();
}

import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Security events are kept for securityEvents.retentionDays and pruned by age: the index lets
// the prune find the old rows without reading the whole table.
export const securityEventRetentionMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('security_events_created_at').on('security_events').column('created_at').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('security_events_created_at').execute();
}

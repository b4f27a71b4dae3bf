import { sql, type Kysely, type Migration } from 'kysely';
import type { EngineName } from '../database.js';

// OpenAI runs and background responses report their tokens only once they
// settle, on a later GET. `accounted_at` records that a resource's usage has
// been counted, so polls, list pages and other instances never count it twice
// (claimed by compare-and-set: UPDATE … WHERE accounted_at IS NULL).
export const llmDeferredUsageMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('llm_resources').addColumn('accounted_at', 'text').execute();
  // Runs and responses recorded before this migration were counted when they were created
  // (a settled answer) or never; charging them again on the next poll would bill users twice,
  // so they are treated as counted. The few still running at deploy time go uncounted.
  await db.updateTable('llm_resources').set({ accounted_at: sql`created_at` })
    .where('resource_type', 'in', ['run', 'response']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('llm_resources').dropColumn('accounted_at').execute();
}

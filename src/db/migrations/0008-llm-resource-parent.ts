import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// A run can only be fetched under its thread (GET /v1/threads/{thread}/runs/{run}):
// `parent_id` keeps the thread of each recorded run, so that the deferred-usage
// sweep (llm/usage/sweep.ts) can fetch runs nobody polls and count their tokens.
export const llmResourceParentMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('llm_resources').addColumn('parent_id', 'text').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('llm_resources').dropColumn('parent_id').execute();
}

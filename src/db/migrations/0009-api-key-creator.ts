import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Every key records who made it (`key:<id>`, `user:<id>` or `cli`), so that a key made by an
// admin user lives no longer than that user's admin role (identity/api-keys/service.ts).
// Keys made before this column existed are matched to their audit entries: keys that admin
// users minted through the old hole (secret keys among them) are then tied to those users too,
// instead of staying anonymous and unbounded. Keys with no audit entry (init) stay null.
export const apiKeyCreatorMigration = (_engine: EngineName): Migration => ({ up, down });

const CREATOR = /^(key:|user:|cli$)/;

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('created_by', 'text').execute();
  await backfillKeyCreators(db);
}

/** Sets created_by from the audit log where it is still null; exported for its test. */
export async function backfillKeyCreators(db: Kysely<any>): Promise<void> {
  const entries: Array<{ actor: string; action: string; target: string | null; details: string }> = await db
    .selectFrom('audit_log')
    .select(['actor', 'action', 'target', 'details'])
    .where('action', 'in', ['api_key.create', 'api_key.rotate'])
    .orderBy('id')
    .execute();
  for (const entry of entries) {
    if (!CREATOR.test(entry.actor)) continue;
    const keyId = entry.action === 'api_key.create' ? entry.target : successorOf(entry.details);
    if (!keyId) continue;
    await db.updateTable('api_keys').set({ created_by: entry.actor }).where('id', '=', keyId).where('created_by', 'is', null).execute();
  }
}

function successorOf(details: string): string | null {
  try {
    const value = JSON.parse(details) as { successor?: unknown };
    return typeof value.successor === 'string' ? value.successor : null;
  } catch {
    return null;
  }
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('created_by').execute();
}

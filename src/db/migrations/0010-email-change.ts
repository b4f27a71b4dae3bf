import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// An email change is pending until codes mailed to the new address (and, in the
// secure variant, to the current one) come back: the account keeps its address,
// its `email` claim and its `email_confirmed_at` until then (issue #11 §4).
// `identity_users.email_change` holds the pending address (GoTrue's column name,
// `new_email` in the user JSON). A one-time code remembers the address it was
// mailed to (`sent_to`), so that it is only valid together with that address, and
// counts the wrong guesses made against it (`failed_attempts`).
export const emailChangeMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_users').addColumn('email_change', 'text').execute();
  await db.schema.alterTable('identity_users').addColumn('email_change_sent_at', 'text').execute();
  await db.schema.alterTable('identity_one_time_tokens').addColumn('sent_to', 'text').execute();
  await db.schema.alterTable('identity_one_time_tokens').addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('identity_one_time_tokens_sent_to').on('identity_one_time_tokens').columns(['project_id', 'environment', 'sent_to']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('identity_one_time_tokens_sent_to').execute();
  await db.schema.alterTable('identity_one_time_tokens').dropColumn('failed_attempts').execute();
  await db.schema.alterTable('identity_one_time_tokens').dropColumn('sent_to').execute();
  await db.schema.alterTable('identity_users').dropColumn('email_change_sent_at').execute();
  await db.schema.alterTable('identity_users').dropColumn('email_change').execute();
}

import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Operators (issue 17): the people who run this server through the dashboard, apart from any
// project's end users. Server-wide accounts with a role per project; their browser sessions; the
// one-time setup link that creates the first of them. Every secret is stored hashed (session ids,
// setup tokens) or sealed with the keyring (TOTP secrets), never in clear.
export const operatorsMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('operators')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** Lower-cased. */
    .addColumn('email', 'text', (c) => c.notNull().unique())
    /** Argon2id PHC string. */
    .addColumn('password_hash', 'text', (c) => c.notNull())
    /** Sealed base32 TOTP secret once confirmed; null: no second factor. */
    .addColumn('totp_secret', 'text')
    /** Sealed secret of an enrolment not yet confirmed by a code. */
    .addColumn('totp_pending', 'text')
    /** The last TOTP time step accepted: a code of that step or an earlier one is a replay. */
    .addColumn('totp_last_step', 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('operator_roles')
    .addColumn('operator_id', 'text', (c) => c.notNull().references('operators.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    /** `owner`, `admin` or `viewer`. */
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('operator_roles_pk', ['operator_id', 'project_id'])
    .execute();
  await db.schema
    .createTable('operator_sessions')
    /** SHA-256 hex of the cookie's session id: the id itself is never stored. */
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('operator_id', 'text', (c) => c.notNull().references('operators.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    /** Absolute end, whatever the activity. */
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('operator_sessions_operator').on('operator_sessions').column('operator_id').execute();
  await db.schema
    .createTable('operator_setup_tokens')
    /** SHA-256 hex of the token printed in the setup link. */
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('operator_setup_tokens').execute();
  await db.schema.dropTable('operator_sessions').execute();
  await db.schema.dropTable('operator_roles').execute();
  await db.schema.dropTable('operators').execute();
}

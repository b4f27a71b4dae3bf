import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Identity: end users, sessions and rotating refresh tokens, signing keys,
// external issuers, the dev mail outbox, one-time (recovery) tokens, invites
// and per-environment sign-up settings. Every row is scoped by project_id +
// environment, and every secret column holds a hash or a keyring ciphertext.
export const identityMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  const envFk = ['project_id', 'environment'] as const;
  await db.schema
    .createTable('identity_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_confirmed_at', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('authenticated'))
    .addColumn('app_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('user_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('issuer_id', 'text')
    .addColumn('external_sub', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'text')
    .addForeignKeyConstraint('identity_users_env_fk', [...envFk], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  // NULLs are distinct on both engines, so external users (email null) and
  // local users (issuer null) do not collide in these unique indexes.
  await db.schema.createIndex('identity_users_email').on('identity_users').columns(['project_id', 'environment', 'email']).unique().execute();
  await db.schema
    .createIndex('identity_users_external')
    .on('identity_users')
    .columns(['project_id', 'environment', 'issuer_id', 'external_sub'])
    .unique()
    .execute();

  await db.schema
    .createTable('identity_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('refreshed_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_reason', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('identity_sessions_user').on('identity_sessions').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('identity_refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('identity_sessions.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('parent_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('identity_refresh_tokens_session').on('identity_refresh_tokens').columns(['session_id']).execute();

  await db.schema
    .createTable('identity_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addForeignKeyConstraint('identity_signing_keys_env_fk', [...envFk], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('identity_signing_keys_env').on('identity_signing_keys').columns(['project_id', 'environment', 'created_at']).execute();

  await db.schema
    .createTable('identity_issuers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('jwks_url', 'text')
    .addColumn('hmac_secret', 'text')
    .addColumn('algorithms', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('identity_issuers_env_fk', [...envFk], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('identity_issuers_iss').on('identity_issuers').columns(['project_id', 'environment', 'issuer']).unique().execute();

  await db.schema
    .createTable('identity_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('identity_outbox_env').on('identity_outbox').columns(['project_id', 'environment', 'created_at']).execute();

  await db.schema
    .createTable('identity_one_time_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('identity_users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('identity_invites')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addPrimaryKeyConstraint('identity_invites_pk', ['project_id', 'environment', 'email'])
    .execute();

  await db.schema
    .createTable('identity_settings')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('signup_mode', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_settings_pk', ['project_id', 'environment'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'identity_settings', 'identity_invites', 'identity_one_time_tokens', 'identity_outbox', 'identity_issuers',
    'identity_signing_keys', 'identity_refresh_tokens', 'identity_sessions', 'identity_users',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

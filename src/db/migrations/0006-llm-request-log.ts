import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Opt-in LLM request logging (issue 5 §7): off unless an admin turns it on for
// a project environment, with a retention limit. Bodies are stored sealed by
// the keyring; the settings row is read through a short in-memory snapshot.
export const llmRequestLogMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('llm_request_log_settings')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('max_body_bytes', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('llm_request_log_settings_pk', ['project_id', 'environment'])
    .addForeignKeyConstraint('llm_request_log_settings_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('llm_request_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('input_tokens', 'bigint')
    .addColumn('output_tokens', 'bigint')
    .addColumn('total_tokens', 'bigint')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('request_body', 'text')
    .addColumn('response_body', 'text')
    .addColumn('truncated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('llm_request_log_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  // Pages go newest first by id (time-ordered); retention deletes by created_at.
  await db.schema.createIndex('llm_request_log_page').on('llm_request_log').columns(['project_id', 'environment', 'id']).execute();
  await db.schema.createIndex('llm_request_log_user').on('llm_request_log').columns(['project_id', 'environment', 'user_id', 'id']).execute();
  await db.schema.createIndex('llm_request_log_age').on('llm_request_log').columns(['project_id', 'environment', 'created_at']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('llm_request_log').execute();
  await db.schema.dropTable('llm_request_log_settings').execute();
}

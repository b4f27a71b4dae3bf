import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// The LLM proxy (issue 5): providers with sealed keys, resource ownership,
// usage per user/model/hour and per-user token quotas. Every row is scoped by
// project_id + environment so no project environment sees another's.
export const llmMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('llm_providers')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('key_ciphertext', 'text')
    .addColumn('key_last_four', 'text')
    .addColumn('endpoints_add', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('endpoints_remove', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('llm_providers_pk', ['project_id', 'environment', 'name'])
    .addForeignKeyConstraint('llm_providers_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  // Looked up by id on every request that names a resource: the primary key is the index.
  await db.schema
    .createTable('llm_resources')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('llm_resources_pk', ['project_id', 'environment', 'provider', 'resource_id'])
    .addForeignKeyConstraint('llm_resources_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('llm_resources_owner').on('llm_resources').columns(['project_id', 'environment', 'provider', 'owner']).execute();

  await db.schema
    .createTable('llm_usage')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('llm_usage_pk', ['project_id', 'environment', 'user_id', 'provider', 'model', 'hour'])
    .addForeignKeyConstraint('llm_usage_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('llm_usage_hour').on('llm_usage').columns(['project_id', 'environment', 'hour']).execute();

  await db.schema
    .createTable('llm_quotas')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('tokens_per_day', 'bigint')
    .addColumn('tokens_per_month', 'bigint')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('llm_quotas_pk', ['project_id', 'environment'])
    .addForeignKeyConstraint('llm_quotas_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('llm_quota_counters')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('llm_quota_counters_pk', ['project_id', 'environment', 'user_id', 'period'])
    .addForeignKeyConstraint('llm_quota_counters_env_fk', ['project_id', 'environment'], 'environments', ['project_id', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['llm_quota_counters', 'llm_quotas', 'llm_usage', 'llm_resources', 'llm_providers']) {
    await db.schema.dropTable(table).execute();
  }
}

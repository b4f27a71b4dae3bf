import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { LlmProvidersTable } from '../tables.js';

export type ProviderRow = LlmProvidersTable;

/** The llm_providers table; knows SQL, not HTTP or crypto. */
export function createProviderStore(db: Kysely<Database>) {
  return {
    async get(projectId: string, environment: string, name: string): Promise<ProviderRow | undefined> {
      return db.selectFrom('llm_providers').selectAll()
        .where('project_id', '=', projectId).where('environment', '=', environment).where('name', '=', name)
        .executeTakeFirst();
    },
    async list(projectId: string, environment: string): Promise<ProviderRow[]> {
      return db.selectFrom('llm_providers').selectAll()
        .where('project_id', '=', projectId).where('environment', '=', environment).orderBy('name').execute();
    },
    async insert(row: ProviderRow): Promise<void> {
      await db.insertInto('llm_providers').values(row).execute();
    },
    async update(projectId: string, environment: string, name: string, changes: Partial<ProviderRow>): Promise<void> {
      await db.updateTable('llm_providers').set(changes)
        .where('project_id', '=', projectId).where('environment', '=', environment).where('name', '=', name).execute();
    },
    async remove(projectId: string, environment: string, name: string): Promise<boolean> {
      const result = await db.deleteFrom('llm_providers')
        .where('project_id', '=', projectId).where('environment', '=', environment).where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type ProviderStore = ReturnType<typeof createProviderStore>;

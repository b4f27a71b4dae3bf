import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/index.js';
import type { ApiKeysTable } from './tables.js';
import type { Environment } from '../../tenancy/index.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export interface ApiKeyStore {
  insert(row: ApiKeyRow): Promise<unknown>;
  findByHash(hash: string): Promise<ApiKeyRow | undefined>;
  findInEnvironment(projectId: string, environment: Environment, id: string): Promise<ApiKeyRow | undefined>;
  list(projectId: string, environment: Environment): Promise<ApiKeyRow[]>;
  revoke(id: string, at: string): Promise<unknown>;
  markRotated(id: string, replacedBy: string, expiresAt: string): Promise<unknown>;
  touch(id: string, at: string): Promise<unknown>;
  transaction<T>(fn: (store: ApiKeyStore) => Promise<T>): Promise<T>;
}

/** SQL access for API keys; knows nothing of HTTP or caching. */
export function createApiKeyStore(db: Kysely<Database>): ApiKeyStore {
  return {
    insert: (row: ApiKeyRow) => db.insertInto('api_keys').values(row).execute(),
    findByHash: (hash: string) => db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst(),
    findInEnvironment: (projectId: string, environment: Environment, id: string) =>
      db
        .selectFrom('api_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .where('id', '=', id)
        .executeTakeFirst(),
    list: (projectId: string, environment: Environment) =>
      db
        .selectFrom('api_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    revoke: (id: string, at: string) =>
      db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute(),
    markRotated: (id: string, replacedBy: string, expiresAt: string) =>
      db.updateTable('api_keys').set({ replaced_by: replacedBy, expires_at: expiresAt }).where('id', '=', id).execute(),
    touch: (id: string, at: string) => db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute(),
    transaction: (fn) => db.transaction().execute((trx) => fn(createApiKeyStore(trx))),
  };
}

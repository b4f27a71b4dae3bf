import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import type { DataKeyStore, WrappedDataKey } from './data-key-store.js';

type Row = { id: string; scope: string; master_key_id: string; wrapped: string; created_at: string };

const toKey = (r: Row): WrappedDataKey => ({ id: r.id, scope: r.scope, masterKeyId: r.master_key_id, wrapped: r.wrapped, createdAt: r.created_at });

/** The keyring's store on either engine. */
export function createSqlDataKeyStore(db: Kysely<Database>): DataKeyStore {
  return {
    async findActive(scope) {
      const row = await db.selectFrom('data_keys').selectAll().where('scope', '=', scope)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row && toKey(row);
    },
    async findById(id) {
      const row = await db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    },
    async insert(key) {
      await db.insertInto('data_keys')
        .values({ id: key.id, scope: key.scope, master_key_id: key.masterKeyId, wrapped: key.wrapped, created_at: key.createdAt })
        .execute();
    },
    async listAll() {
      return (await db.selectFrom('data_keys').selectAll().orderBy('created_at').orderBy('id').execute()).map(toKey);
    },
    async updateWrapping(id, masterKeyId, wrapped) {
      const result = await db.updateTable('data_keys').set({ master_key_id: masterKeyId, wrapped }).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw new Error(`data key ${id} not found while re-wrapping`);
    },
  };
}

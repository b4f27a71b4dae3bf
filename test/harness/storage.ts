// A fresh, migrated database on one engine, for tests of a store or service below the HTTP layer:
//   ({ db, storage } = await migratedStorage(engine));   // afterEach: storage.close(), then db.cleanup()
import { migrateToLatest, openStorage, type Storage } from '../../src/db/index.js';
import { afterEach, beforeEach } from 'vitest';
import { freshDatabaseUrl, type EngineName, type FreshDatabase } from './engines.js';

export async function migratedStorage(engine: EngineName): Promise<{ db: FreshDatabase; storage: Storage }> {
  const db = await freshDatabaseUrl(engine);
  const storage = openStorage({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
  await migrateToLatest(storage);
  return { db, storage };
}

/**
 * The same per test of the enclosing describe block, closed and removed after each:
 *   const fresh = useMigratedStorage(engine);   // then fresh.storage.db in tests
 */
export function useMigratedStorage(engine: EngineName): { readonly storage: Storage } {
  let current: { db: FreshDatabase; storage: Storage } | null = null;
  beforeEach(async () => {
    current = await migratedStorage(engine);
  });
  afterEach(async () => {
    await current?.storage.close();
    await current?.db.cleanup();
    current = null;
  });
  return {
    get storage(): Storage {
      if (!current) throw new Error('useMigratedStorage: only inside a test');
      return current.storage;
    },
  };
}

import { Migrator, type MigrationProvider } from 'kysely';
import type { Storage } from './database.js';
import { allMigrations } from './migrations/index.js';

/** Applies pending migrations; Kysely's migrator takes a lock so concurrent instances are safe. */
export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => allMigrations(storage.engine) };
  const migrator = new Migrator({ db: storage.db, provider, migrationTableName: 'gatehouse_migrations', migrationLockTableName: 'gatehouse_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}

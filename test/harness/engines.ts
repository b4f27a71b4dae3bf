// Helpers for tests that must pass on both storage engines.
//
//   for (const engine of engines()) {
//     describe(`keys (${engine})`, () => {
//       let db: Awaited<ReturnType<typeof freshDatabaseUrl>>;
//       beforeEach(async () => { db = await freshDatabaseUrl(engine); });
//       afterEach(() => db.cleanup());
//       ...
//     });
//   }
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createDatabase } from './postgres.js';

export type EngineName = 'sqlite' | 'postgres';

export interface FreshDatabase {
  /** undefined for sqlite (the server then uses `<dataDir>/gatehouse.db`); a fresh database's URL for postgres. */
  databaseUrl: string | undefined;
  /** A new, empty temp directory to use as the server's data dir. */
  dataDir: string;
  /** Drops the database (postgres) and removes dataDir. Idempotent. */
  cleanup(): Promise<void>;
}

/** sqlite always; postgres when the run has a PostgreSQL (always in CI). */
export function engines(): EngineName[] {
  return inject('postgresUrl') ? ['sqlite', 'postgres'] : ['sqlite'];
}

export function postgresUrl(): string | null {
  return inject('postgresUrl');
}

export function redisUrl(): string | null {
  return inject('redisUrl');
}

export async function freshDatabaseUrl(engine: EngineName): Promise<FreshDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-data-'));
  if (engine === 'sqlite') {
    return {
      databaseUrl: undefined,
      dataDir,
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = inject('postgresUrl');
  if (!adminUrl) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error('freshDatabaseUrl("postgres"): no PostgreSQL in this run (use engines() to pick engines)');
  }
  let db: Awaited<ReturnType<typeof createDatabase>>;
  try {
    db = await createDatabase(adminUrl);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    databaseUrl: db.url,
    dataDir,
    async cleanup(): Promise<void> {
      try {
        await db.drop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

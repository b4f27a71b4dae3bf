import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

export type EngineName = 'sqlite' | 'postgres';

/**
 * What differs between engines, as flags feature code may consult — never
 * `if (engine === 'postgres')` in a feature (STYLE.md §6).
 */
export interface EngineCapabilities {
  /** ILIKE exists; on SQLite, LIKE is already case-insensitive for ASCII. */
  ilike: boolean;
  /** Several writers at once; SQLite serialises writes in one process. */
  concurrentWriters: boolean;
  /**
   * Collation to declare on text columns so they compare and sort by bytes
   * (code points), as SQLite's default BINARY does; absent: the default already does.
   */
  byteOrderCollation?: string;
}

export interface Storage {
  db: Kysely<Database>;
  engine: EngineName;
  capabilities: EngineCapabilities;
  /** Cheap liveness probe for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

export function sqliteFilePath(dataDir: string): string {
  return join(dataDir, 'gatehouse.db');
}

export function openStorage(options: OpenStorageOptions): Storage {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  return openSqlite(sqliteFilePath(options.dataDir));
}

function openSqlite(file: string): Storage {
  const database = new SQLite(file);
  // WAL lets readers proceed while one writer writes; busy_timeout makes a
  // second process (the CLI beside a running server) wait instead of failing.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return {
    db,
    engine: 'sqlite',
    capabilities: { ilike: false, concurrentWriters: false },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; compiling SQL is most of a point read's
 * cost on SQLite. Queries are built from a small set of shapes with bound
 * values, so caching statements by SQL text (LRU, bounded) reuses the plans.
 * better-sqlite3 is synchronous, so a cached statement is never used twice at once.
 */
function withStatementCache(database: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = database.prepare.bind(database);
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') {
        const value: unknown = Reflect.get(target, property, receiver);
        // Native methods must run with the real database as `this`.
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (source: string) => {
        const hit = cache.get(source);
        if (hit) {
          cache.delete(source);
          cache.set(source, hit);
          return hit;
        }
        const statement = prepare(source);
        cache.set(source, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        return statement;
      };
    },
  });
}

function openPostgres(connectionString: string, max: number): Storage {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    engine: 'postgres',
    capabilities: { ilike: true, concurrentWriters: true, byteOrderCollation: 'C' },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

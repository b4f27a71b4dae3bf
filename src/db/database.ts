import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type PostgresPool, type PostgresPoolClient, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { loadOnFirstUse } from '../shared/load-on-first-use.js';
import { createOutageLog, type OutageLog } from '../shared/outage-log.js';
import { createPrivateFile, secureDataDir } from './data-dir.js';
import type { Database } from './tables.js';
import { InlineLimitPlugin } from './inline-limit.js';
import { databaseUnavailable, isDatabaseOutage } from './unavailable.js';

export type EngineName = 'sqlite' | 'postgres';

/**
 * What differs between engines, as flags feature code may consult — never
 * `if (engine === 'postgres')` in a feature.
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
  /**
   * How SQL reads a field of JSON stored as text: SQLite's JSON1 functions (`json_type`,
   * `json_extract` straight on the text) or PostgreSQL's (`json_typeof`, `->`/`->>` after a cast).
   */
  json: 'json1' | 'postgres';
  /**
   * SQL can write a row as a JSON object with the bytes JSON.stringify gives for text, integer and
   * boolean values (SQLite's json_object: the Data API's reads, data/rows/read-plan.ts). Not on
   * PostgreSQL: json_build_object spaces its output differently, and row_to_json, whose bytes are
   * the same, runs in the select list for every row the filters pass, before the sort and LIMIT
   * (a 50-row list of bench/data.ts: ~2,900 rows, 3× the query's time; measured in issue 18).
   */
  jsonRows?: boolean;
}

export interface Storage {
  db: Kysely<Database>;
  engine: EngineName;
  capabilities: EngineCapabilities;
  /**
   * A read's rows as arrays, values in select order, with `parameters` bound: the Data API's planned
   * reads (data/rows/read-plan.ts), which need no row objects. Runs under the same connection
   * discipline as a Kysely query (on SQLite, Kysely's connection lock: never in the middle of
   * another request's transaction).
   */
  selectArrays(sql: string, parameters: readonly unknown[]): Promise<unknown[][]>;
  /**
   * selectArrays at once, when the engine can answer without waiting (SQLite with no transaction
   * open on its connection); null when it cannot (then selectArrays). Absent on PostgreSQL.
   */
  selectArraysNow?(sql: string, parameters: readonly unknown[]): unknown[][] | null;
  /** Cheap liveness probe for /ready. */
  ping(): Promise<void>;
  /** PostgreSQL: the pool's connections now (metrics). Absent on SQLite: one connection, no pool, no queue. */
  poolStats?(): { inUse: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
  /** Where an outage and its end are logged (once each); silent without. */
  logger?: Logger;
  /** SQLite: ms a statement waits for another process's write lock before SQLITE_BUSY (503). */
  sqliteBusyTimeoutMs?: number;
}

export function sqliteFilePath(dataDir: string): string {
  return join(dataDir, 'gatehouse.db');
}

export function openStorage(options: OpenStorageOptions): Storage {
  const outage = createOutageLog(options.logger, 'database');
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, outage);
  secureDataDir(options.dataDir);
  return openSqlite(createPrivateFile(sqliteFilePath(options.dataDir)), options.sqliteBusyTimeoutMs ?? 5000, outage);
}

function openSqlite(file: string, busyTimeoutMs: number, outage: OutageLog): Storage {
  const database = new SQLite(file);
  // WAL lets readers proceed while one writer writes; busy_timeout makes a
  // second process (the CLI beside a running server) wait instead of failing.
  // SQLite gives the -wal and -shm files the database file's mode (0600).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  const guarded = guardedSqlite(database, outage);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: guarded }), plugins: [new InlineLimitPlugin()] });
  const executor = db.getExecutor();
  return {
    db,
    engine: 'sqlite',
    capabilities: { ilike: false, concurrentWriters: false, json: 'json1', jsonRows: true },
    // Kysely's lock on the one connection exists so that no statement runs inside another request's
    // open transaction. With no transaction open, a read runs at once: better-sqlite3 is synchronous,
    // so nothing else can begin one while it runs, and taking the lock was several promise turns on
    // every point read (issue 18). Inside a transaction it waits for the lock, as any query does.
    selectArrays: (text, parameters) =>
      database.inTransaction
        ? executor.provideConnection(async () => guarded.allArrays(text, parameters))
        : new Promise((resolve) => resolve(guarded.allArrays(text, parameters))),
    // The same without the promise: a point read's answer needs no turn of the event loop's queue.
    selectArraysNow: (text, parameters) => (database.inTransaction ? null : guarded.allArrays(text, parameters)),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * What Kysely sees of better-sqlite3, with two additions:
 * - Kysely prepares every query anew; compiling SQL is most of a point read's cost on SQLite.
 *   Queries are built from a small set of shapes with bound values, so caching statements by SQL
 *   text (LRU, bounded) reuses the plans. better-sqlite3 is synchronous, so a cached statement is
 *   never used twice at once.
 * - A statement that fails because the database cannot serve (locked by another process past
 *   busy_timeout, I/O error, disk full) throws the 503 error, and the outage is logged once.
 */
function guardedSqlite(database: SQLite.Database, outage: OutageLog): SqliteDatabase & { allArrays(source: string, parameters: readonly unknown[]): unknown[][] } {
  // Only a write proves recovery: in WAL mode reads succeed while another process holds the
  // write lock, and counting them would log the same outage as many short ones.
  const guard = <T>(run: () => T, writes: boolean): T => {
    let result: T;
    try {
      result = run();
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      outage.down(error);
      throw databaseUnavailable(error);
    }
    if (writes && outage.isDown) outage.up();
    return result;
  };
  // Bounded LRU by SQL text. Kysely's statements and selectArrays' (raw mode: rows as arrays) are
  // kept apart: a statement's mode is its state, and each cache's statements stay in one mode.
  const cached = <T>(cache: Map<string, T>, source: string, make: () => T): T => {
    const hit = cache.get(source);
    if (hit) {
      cache.delete(source);
      cache.set(source, hit);
      return hit;
    }
    const made = make();
    cache.set(source, made);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return made;
  };
  const statements = new Map<string, SqliteStatement>();
  const arrayStatements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare: (source) => cached(statements, source, () => {
      const prepared = guard(() => database.prepare(source), false);
      const writes = !prepared.readonly;
      return {
        reader: prepared.reader,
        all: (parameters) => guard(() => prepared.all(parameters), writes),
        run: (parameters) => guard(() => prepared.run(parameters), writes),
        iterate: (parameters) => guard(() => prepared.iterate(parameters), writes),
      };
    }),
    allArrays(source, parameters) {
      const prepared = cached(arrayStatements, source, () => guard(() => database.prepare(source), false).raw(true));
      return guard(() => prepared.all(parameters) as unknown[][], false);
    },
  };
}

function openPostgres(connectionString: string, max: number, outage: OutageLog): Storage {
  let pool: pg.Pool | null = null;
  // pg loads with the first query (Kysely takes a pool factory), so the embedded default never loads it.
  // One pool for Kysely and selectArrays, whichever asks first.
  const openPool = loadOnFirstUse(async (): Promise<GuardedPool> => {
    const { default: driver } = await import('pg');
    pool = new driver.Pool({ connectionString, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
    // An idle client's error (server restart, terminated backend): the pool drops the client, and the
    // next request connects anew. Without a listener the event would end the process.
    pool.on('error', () => {});
    return guardedPool(pool, outage);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPool }) });
  return {
    db,
    engine: 'postgres',
    capabilities: { ilike: true, concurrentWriters: true, byteOrderCollation: 'C', json: 'postgres' },
    // Straight on a pooled connection, as Kysely would run it, but asking pg for arrays.
    async selectArrays(text, parameters) {
      const client = await (await openPool()).connect();
      try {
        return await client.queryArrays(text, parameters);
      } finally {
        client.release();
      }
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    poolStats: () => (pool ? { inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount } : { inUse: 0, idle: 0, waiting: 0 }),
    close: () => db.destroy(),
  };
}

/**
 * The pool as Kysely sees it, hardened against connections that die mid-use:
 * - Every client gets an 'error' listener when created. pg-pool listens only while a client is
 *   idle; a client checked out for a transaction whose backend is terminated (pg_terminate_backend,
 *   `pg_ctl stop`, a network reset) emits 'error' with no listener, and Node ends the process.
 * - A client that failed is released with its error, so the pool destroys it instead of lending a
 *   dead connection to the next request.
 * - Connection failures become the 503 error and are logged once per outage; the first success
 *   afterwards logs the recovery.
 */
type GuardedClient = PostgresPoolClient & { queryArrays(text: string, values: readonly unknown[]): Promise<unknown[][]> };
type GuardedPool = Omit<PostgresPool, 'connect'> & { connect(): Promise<GuardedClient> };

function guardedPool(pool: pg.Pool, outage: OutageLog): GuardedPool {
  const broken = new WeakMap<pg.PoolClient, Error>();
  const views = new WeakMap<pg.PoolClient, GuardedClient>();
  pool.on('connect', (client) => {
    client.on('error', (error: Error) => broken.set(client as pg.PoolClient, error));
  });
  const failed = (client: pg.PoolClient | null, error: unknown): never => {
    if (!(client && broken.has(client)) && !isDatabaseOutage(error)) throw error;
    if (client && !broken.has(client)) broken.set(client, error instanceof Error ? error : new Error(String(error)));
    outage.down(error);
    throw databaseUnavailable(error);
  };
  const succeeded = <T>(result: T): T => {
    if (outage.isDown) outage.up();
    return result;
  };
  const view = (client: pg.PoolClient): GuardedClient => ({
    // Kysely calls query(sql, parameters) only: no cursor is configured.
    query: ((text: string, values: unknown[]) =>
      client.query(text, values).then(succeeded, (error: unknown) => failed(client, error))) as unknown as PostgresPoolClient['query'],
    queryArrays: (text, values) =>
      client.query<unknown[]>({ text, values: values as unknown[], rowMode: 'array' }).then((result) => succeeded(result.rows), (error: unknown) => failed(client, error)),
    release: () => client.release(broken.get(client)),
  });
  return {
    async connect(): Promise<GuardedClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        // Any failure to get a connection (refused, timed out, starting up, pool ended) is an outage.
        outage.down(error);
        throw databaseUnavailable(error);
      }
      let found = views.get(client);
      if (!found) views.set(client, (found = view(client)));
      return found;
    },
    end: () => pool.end(),
  };
}

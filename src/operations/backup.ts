// Backups that a running server does not notice, and restores that refuse to land on live data.
// A backup holds the whole database: users, sessions, the audit chain, and the data keys, each
// wrapped by the master key. The master key itself is never in it (it lives in the environment,
// a key file, or the data dir's master.key, which a backup leaves out), so a stolen backup opens
// nothing without it, and a backup is useless to its owner without it too.
//
// SQLite: the online backup API of better-sqlite3, from its own connection (the CLI is another
// process), in one step: one read transaction, so the copy is the database as of one instant
// after the command started, and the server's writes go on meanwhile (WAL: readers do not block
// the writer). PostgreSQL: pg_dump's custom format (a snapshot too), see backup-postgres.ts.
//
// The operator's acts (the CLI, with the database's own credentials), not actions of the admin
// API: a backup over HTTP would hand every password hash and wrapped key to whoever holds a key.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { createPrivateFile, secureDataDir } from '../db/data-dir.js';
import { sqliteFilePath, type EngineName } from '../db/index.js';
import { allMigrations } from '../db/migrations/index.js';
import { GatehouseError } from '../errors/index.js';

export interface BackupSummary {
  engine: EngineName;
  file: string;
  bytes: number;
  /** The newest migration applied in the backup: the oldest Gatehouse that can restore it. */
  migration: string | null;
  /** Ids of the master keys that wrap the data keys in it: restore needs one of these keys. */
  masterKeyIds: string[];
}

/** What a database, backed up or restored, says about itself. */
export interface Contents {
  migrations: string[];
  masterKeyIds: string[];
}

export interface SqliteBackupOptions {
  /** Called after each backup step; tests make a step fail with it. */
  onStep?: () => void;
}

/** Copies the data dir's database into `file` (created 0600); nothing at `file` if it fails. */
export async function backupSqlite(dataDir: string, file: string, options: SqliteBackupOptions = {}): Promise<BackupSummary> {
  const source = sqliteFilePath(dataDir);
  if (!existsSync(source)) throw new GatehouseError('not_found', { message: `No database at ${source}.` });
  refuseExisting(file);
  const partial = partialPath(file);
  const db = new SQLite(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    createPrivateFile(partial);
    // All remaining pages in one step: a copy taken over many steps restarts whenever the
    // server writes in between, and under steady load would never finish.
    await db.backup(partial, { progress: () => { options.onStep?.(); return 0x7fffffff; } });
  } catch (error) {
    removeCopy(partial);
    throw error;
  } finally {
    db.close();
  }
  return finish(partial, file, 'sqlite', () => inspectSqlite(partial));
}

/** Checks a finished copy, then moves it into place: a reader of `file` never sees half a backup. */
export async function finish(partial: string, file: string, engine: EngineName, inspect: () => Promise<Contents> | Contents): Promise<BackupSummary> {
  let contents: Contents;
  try {
    contents = await inspect();
    chmodSync(partial, 0o600);
    renameSync(partial, file);
  } catch (error) {
    removeCopy(partial);
    throw error;
  }
  return { engine, file, bytes: statSync(file).size, migration: contents.migrations.at(-1) ?? null, masterKeyIds: contents.masterKeyIds };
}

export function refuseExisting(file: string): void {
  if (existsSync(file)) throw new GatehouseError('conflict', { message: `${file} exists; back up to a new file.` });
  if (!existsSync(dirname(file))) throw new GatehouseError('not_found', { message: `No directory ${dirname(file)}.` });
}

/** Beside the target, so the final rename stays on one file system (atomic). */
export function partialPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.partial`);
}

/** Integrity, and a migration history this build knows: a restore must be able to serve it. */
function inspectSqlite(file: string): Contents {
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { fileMustExist: true });
  } catch (error) {
    throw notABackup(file, error);
  }
  try {
    let verdict: unknown;
    try {
      verdict = db.pragma('integrity_check', { simple: true });
    } catch (error) {
      throw notABackup(file, error);
    }
    if (verdict !== 'ok') throw new GatehouseError('validation_failed', { message: `${file} is damaged: integrity_check says ${String(verdict)}.` });
    let migrations: string[];
    let masterKeyIds: string[];
    try {
      migrations = (db.prepare('select name from gatehouse_migrations order by name').all() as Array<{ name: string }>).map((r) => r.name);
      masterKeyIds = (db.prepare('select distinct master_key_id as id from data_keys order by 1').all() as Array<{ id: string }>).map((r) => r.id);
    } catch (error) {
      throw notABackup(file, error);
    }
    checkMigrations(migrations, 'sqlite');
    return { migrations, masterKeyIds };
  } finally {
    db.close();
  }
}

export function checkMigrations(applied: string[], engine: EngineName): void {
  const known = new Set(Object.keys(allMigrations(engine)));
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new GatehouseError('conflict', { message: `The backup was made by a newer Gatehouse (migration ${unknown.join(', ')} unknown to this one): restore it with that version or a later one.` });
  }
}

function notABackup(file: string, cause: unknown): GatehouseError {
  return new GatehouseError('validation_failed', { message: `${file} is not a Gatehouse backup.`, cause });
}

/** What kind of backup a file is, by its first bytes. */
export function backupKind(file: string): EngineName {
  const head = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') === 'SQLite format 3\0') return 'sqlite';
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'postgres';
  throw new GatehouseError('validation_failed', { message: `${file} is not a Gatehouse backup (neither SQLite nor pg_dump custom format).` });
}

/**
 * Restores a SQLite backup as the database of `dataDir`, which must be empty or absent: a restore
 * never mixes with, or replaces, live data. The copy is checked before it becomes gatehouse.db.
 */
export function restoreSqlite(file: string, dataDir: string): Contents {
  if (backupKind(file) !== 'sqlite') throw new GatehouseError('validation_failed', { message: `${file} is a PostgreSQL backup: restore it with --database-url.` });
  const created = !existsSync(dataDir);
  if (!created && readdirSync(dataDir).length > 0) throw new GatehouseError('conflict', { message: `${dataDir} is not empty: restore into an empty or new data dir.` });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const target = sqliteFilePath(dataDir);
  const partial = partialPath(target);
  try {
    createPrivateFile(partial);
    copyFileSync(file, partial);
    const contents = inspectSqlite(partial);
    renameSync(partial, target);
    secureDataDir(dataDir);
    return contents;
  } catch (error) {
    removeCopy(partial);
    if (created) rmdirSync(dataDir);
    throw error;
  }
}

/** A copy that failed, with the WAL and shared-memory files opening it may have made. */
function removeCopy(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) rmSync(path, { force: true });
}

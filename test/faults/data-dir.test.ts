// The data dir holds the database and, in development, the master key: 0700, and every file in it
// 0600 — the database, its -wal and -shm, the key — including a data dir an earlier version left
// at 0755 with a 0644 database (tightened when Gatehouse opens it).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('data dir file modes (sqlite)', () => {
  let gh: TestApp | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await gh?.close();
    gh = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const files = (dir: string) => readdirSync(dir).map((name) => join(dir, name));

  it('a new data dir is 0700 and the database, its WAL and shared memory and the dev key are 0600', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'gh-modes-')), 'data');
    dirs.push(dataDir);
    gh = await startTestApp('sqlite', { database: { databaseUrl: undefined, dataDir } });
    // A write, so the WAL and its shared memory exist.
    expect((await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } })).statusCode).toBe(201);
    const names = readdirSync(dataDir);
    expect(names).toEqual(expect.arrayContaining(['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm', 'master.key']));
    expect(mode(dataDir)).toBe(0o700);
    for (const file of files(dataDir)) expect([file, mode(file)]).toEqual([file, 0o600]);
  });

  it('a data dir an earlier version left readable by others is tightened on open', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gh-modes-old-'));
    dirs.push(dataDir);
    chmodSync(dataDir, 0o755);
    // What earlier versions left: a database and WAL created with the process umask (0644).
    const old = new SQLite(join(dataDir, 'gatehouse.db'));
    old.pragma('journal_mode = WAL');
    old.exec('create table leftover (x integer)');
    chmodSync(join(dataDir, 'gatehouse.db'), 0o644);
    chmodSync(join(dataDir, 'gatehouse.db-wal'), 0o644);
    old.close();
    mkdirSync(join(dataDir, 'backups'), { mode: 0o755 });

    gh = await startTestApp('sqlite', { database: { databaseUrl: undefined, dataDir } });
    expect(mode(dataDir)).toBe(0o700);
    for (const file of files(dataDir).filter((f) => statSync(f).isFile())) expect([file, mode(file)]).toEqual([file, 0o600]);
  });
});

// What backup and restore refuse: a half-written backup never appears under the backup's name,
// an existing file is never overwritten, and a restore lands only in an empty target, from a file
// that is an intact Gatehouse database this build can serve. Each refusal is a clear error, exit 1.
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupSqlite } from '../../src/operations/index.js';
import { runCliOn, useSeededDatabase } from '../harness/cli.js';
import { engines } from '../harness/engines.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

describe('backup and restore refusals (sqlite)', () => {
  const source = useSeededDatabase('sqlite', 'shop');
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-backup-'));
  });
  afterEach(async () => {
    chmodSync(dir, 0o700);
    await rm(dir, { recursive: true, force: true });
  });
  const backup = async () => {
    const file = join(dir, 'b.db');
    const res = await runCliOn(source, ['backup', file]);
    expect(res.code, res.err).toBe(0);
    return file;
  };

  it('a backup that fails half-way leaves no file, under its name or beside it', async () => {
    const file = join(dir, 'b.db');
    await expect(backupSqlite(source.dataDir, file, { onStep: () => { throw new Error('disk full'); } })).rejects.toThrow('disk full');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a backup into a directory that does not exist fails and creates nothing', async () => {
    const res = await runCliOn(source, ['backup', join(dir, 'missing', 'b.db')]);
    expect(res.code).toBe(1);
    expect(res.err).toBe(`error: No directory ${join(dir, 'missing')}.\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an existing file is not overwritten', async () => {
    const file = join(dir, 'b.db');
    writeFileSync(file, 'yesterday');
    const res = await runCliOn(source, ['backup', file]);
    expect(res.code).toBe(1);
    expect(res.err).toBe(`error: ${file} exists; back up to a new file.\n`);
    expect(readFileSync(file, 'utf8')).toBe('yesterday');
  });

  it('the human output says which master key decrypts it, and that the key is not in it', async () => {
    // A provider key: the first thing sealed under a data key.
    expect((await runCliOn(source, ['providers', 'set', 'openai', '--key-stdin', '-p', 'shop'], { stdin: 'sk-backup-0000000000000001\n' })).code).toBe(0);
    const res = await runCliOn(source, ['backup', join(dir, 'b.db')]);
    expect(res.out).toMatch(/needs the master key with id \S+ to decrypt/);
    expect(res.out).toContain('The master key is not in the backup');
    // The dev master key sits in the data dir; its text is nowhere in the backup.
    const masterKey = readFileSync(join(source.dataDir, 'master.key'), 'utf8').trim();
    expect(readFileSync(join(dir, 'b.db')).includes(Buffer.from(masterKey))).toBe(false);
  });

  it('restore refuses a data dir that is not empty, and leaves it as it was', async () => {
    const file = await backup();
    const before = readFileSync(join(source.dataDir, 'gatehouse.db'));
    const res = await runCliOn({ dataDir: dir }, ['restore', file, '--data-dir', source.dataDir]);
    expect(res.code).toBe(1);
    expect(res.err).toBe(`error: ${source.dataDir} is not empty: restore into an empty or new data dir.\n`);
    expect(readFileSync(join(source.dataDir, 'gatehouse.db')).equals(before)).toBe(true);
  });

  it('restore needs exactly one explicit target', async () => {
    const file = await backup();
    for (const args of [[], ['--data-dir', join(dir, 'a'), '--database-url', 'postgres://x/y']]) {
      const res = await runCliOn({ dataDir: join(dir, 'configured') }, ['restore', file, ...args]);
      expect(res.code).toBe(1);
      expect(res.err).toContain('Name the target');
    }
    expect(existsSync(join(dir, 'configured'))).toBe(false);
  });

  it('restore refuses a file that is not a Gatehouse backup, or a damaged one, and creates nothing', async () => {
    const notBackup = join(dir, 'notes.txt');
    writeFileSync(notBackup, 'hello');
    const target = join(dir, 'restored');
    let res = await runCliOn({ dataDir: target }, ['restore', notBackup, '--data-dir', target]);
    expect(res.code).toBe(1);
    expect(res.err).toContain('is not a Gatehouse backup');
    expect(existsSync(target)).toBe(false);

    const file = await backup();
    const bytes = readFileSync(file);
    // Overwrite pages past the header: the file still opens, but its b-trees are garbage.
    bytes.fill(0xa5, 4096 * 2, Math.min(bytes.length, 4096 * 6));
    const damaged = join(dir, 'damaged.db');
    writeFileSync(damaged, bytes);
    res = await runCliOn({ dataDir: target }, ['restore', damaged, '--data-dir', target]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/is damaged|is not a Gatehouse backup/);
    expect(existsSync(target)).toBe(false);
  });

  it('restore refuses a backup made by a newer Gatehouse (a migration this build does not know)', async () => {
    const file = await backup();
    const db = new SQLite(file);
    db.prepare("insert into gatehouse_migrations (name, timestamp) values ('0999-from-the-future', '2030-01-01')").run();
    db.close();
    const target = join(dir, 'restored');
    const res = await runCliOn({ dataDir: target }, ['restore', file, '--data-dir', target]);
    expect(res.code).toBe(1);
    expect(res.err).toContain('made by a newer Gatehouse (migration 0999-from-the-future unknown');
    expect(existsSync(target)).toBe(false);
  });

  it('a restore into a new dir makes it 0700 with the database 0600', async () => {
    const file = await backup();
    const target = join(dir, 'restored');
    const res = await runCliOn({ dataDir: target }, ['restore', file, '--data-dir', target]);
    expect(res.code, res.err).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(readdirSync(target)).toEqual(['gatehouse.db']);
    expect(statSync(join(target, 'gatehouse.db')).mode & 0o777).toBe(0o600);
  });
});

describe.skipIf(!engines().includes('postgres'))('restore refusals (postgres)', () => {
  const source = useSeededDatabase('postgres', 'shop');

  it('restore refuses a database that already has tables, and a SQLite target for a pg_dump backup', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-backup-'));
    try {
      const file = join(dir, 'b.dump');
      const made = await runCliOn(source, ['backup', file, '--pg-bin', PG_BIN]);
      expect(made.code, made.err).toBe(0);
      const res = await runCliOn({ dataDir: dir }, ['restore', file, '--database-url', source.databaseUrl!, '--pg-bin', PG_BIN]);
      expect(res.code).toBe(1);
      expect(res.err).toBe('error: The target database is not empty: restore into a new, empty database.\n');
      const wrongKind = await runCliOn({ dataDir: dir }, ['restore', file, '--data-dir', join(dir, 'x')]);
      expect(wrongKind.err).toContain('is a PostgreSQL backup: restore it with --database-url');

      // Nothing in the target changed: still one project.
      const client = new pg.Client({ connectionString: source.databaseUrl });
      await client.connect();
      expect((await client.query('select count(*)::int as n from projects')).rows[0].n).toBe(1);
      await client.end();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the database password never reaches the pg_dump command line, and a failed dump leaves no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-backup-'));
    try {
      // A stand-in pg_dump that records what it was given, then fails as a real one would.
      const seen = join(dir, 'seen.txt');
      writeFileSync(join(dir, 'pg_dump'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${seen}\necho "PGPASSWORD=$PGPASSWORD" >> ${seen}\necho 'pg_dump: error: connection refused' >&2\nexit 1\n`, { mode: 0o700 });
      const out = join(dir, 'out');
      await mkdir(out);
      const target = { dataDir: dir, databaseUrl: 'postgres://gatehouse:pw%2Fs3cret@127.0.0.1:1/app?sslmode=disable' };
      const res = await runCliOn(target, ['backup', join(out, 'b.dump'), '--pg-bin', dir]);
      expect(res.code).toBe(1);
      expect(res.err).toBe('error: pg_dump failed (exit 1): pg_dump: error: connection refused\n');
      const [args, env] = readFileSync(seen, 'utf8').split('PGPASSWORD=');
      expect(args).toContain('--dbname=postgres://gatehouse@127.0.0.1:1/app?sslmode=disable');
      expect(args).not.toContain('s3cret');
      expect(env!.trim()).toBe('pw/s3cret');
      expect(readdirSync(out)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Issue 13 §3: run from an app's repository, the CLI used to create a fresh .gatehouse/ there (and a
// new master key) and end in `No project "default"`. A command that needs a project now refuses
// where there is no data, names the directory it looked at, says how to point it elsewhere, and
// leaves nothing behind; --data-dir (or GATEHOUSE_DATA_DIR) points it at the server's data.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';
import { runCliIn } from './run-cli.js';

const NEEDS_DATA: string[][] = [
  ['keys', 'list', '-p', 'default'],
  ['keys', 'create', '-p', 'default', '-k', 'secret'],
  ['schema', 'show', '-p', 'default'],
  ['policy', 'test', 'notes', 'select', '-p', 'default'],
  ['users', 'list', '-p', 'default'],
  ['limits', 'show', '-p', 'default'],
  ['providers', 'list', '-p', 'default'],
  ['llm', 'request-log', 'show', '-p', 'default'],
  ['auth', 'issuers', 'list', '-p', 'default'],
  ['projects', 'list'],
  ['master-key', 'rotate'],
];

describe('commands that need a project, where there is no data (sqlite)', () => {
  let appRepo: string;
  beforeEach(() => {
    appRepo = mkdtempSync(join(tmpdir(), 'gh-app-repo-'));
  });
  afterEach(() => rmSync(appRepo, { recursive: true, force: true }));

  it('refuse with exit 2, name the data dir they looked at, suggest --data-dir and --url, and create nothing', async () => {
    for (const args of NEEDS_DATA) {
      const res = await runCliIn({ cwd: appRepo }, args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.err, args.join(' ')).toContain(`No Gatehouse data in ${join(appRepo, '.gatehouse')}`);
      expect(res.err).toContain('--data-dir');
      expect(res.err).toContain('--url');
      expect(res.out).toBe('');
      expect(readdirSync(appRepo), args.join(' ')).toEqual([]);
    }
  });

  it('refuse a --data-dir or GATEHOUSE_DATA_DIR that holds no data, and do not create it', async () => {
    const missing = join(appRepo, 'nowhere');
    const viaFlag = await runCliIn({ cwd: appRepo }, ['keys', 'list', '-p', 'default', '--data-dir', missing]);
    expect(viaFlag.code).toBe(2);
    expect(viaFlag.err).toContain(`No Gatehouse data in ${missing}`);
    const viaEnv = await runCliIn({ cwd: appRepo, env: { GATEHOUSE_DATA_DIR: missing } }, ['keys', 'list', '-p', 'default']);
    expect(viaEnv.code).toBe(2);
    expect(existsSync(missing)).toBe(false);
  });

  it('without -p, a local command says to give the project (exit 2)', async () => {
    const res = await runCliIn({ cwd: appRepo }, ['keys', 'list']);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/-p\/--project/);
    expect(readdirSync(appRepo)).toEqual([]);
  });
});

describe.each(engines())('--data-dir points the CLI at the server\'s data from any directory (%s)', (engine) => {
  let db: FreshDatabase;
  let elsewhere: string;
  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
    elsewhere = mkdtempSync(join(tmpdir(), 'gh-elsewhere-'));
  });
  afterEach(async () => {
    await db.cleanup();
    rmSync(elsewhere, { recursive: true, force: true });
  });
  const env = () => (db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {});

  it('init --data-dir makes the data there; later commands find it with --data-dir or GATEHOUSE_DATA_DIR, from another directory', async () => {
    const init = await runCliIn({ cwd: elsewhere, env: env() }, ['init', '--json', '--data-dir', db.dataDir]);
    expect(init.code, init.err).toBe(0);
    const { project_id: projectId } = JSON.parse(init.out) as { project_id: string };
    expect(readdirSync(elsewhere)).toEqual([]);

    const viaFlag = await runCliIn({ cwd: elsewhere, env: env() }, ['--json', 'keys', 'list', '-p', 'default', '--data-dir', db.dataDir]);
    expect(viaFlag.code, viaFlag.err).toBe(0);
    expect(JSON.parse(viaFlag.out).keys.map((k: { kind: string }) => k.kind).sort()).toEqual(['publishable', 'secret']);
    const viaEnv = await runCliIn({ cwd: elsewhere, env: { ...env(), GATEHOUSE_DATA_DIR: db.dataDir } }, ['--json', 'projects', 'list']);
    expect(JSON.parse(viaEnv.out).projects).toEqual([expect.objectContaining({ id: projectId, name: 'default' })]);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a project that is not there is named with the place it was looked for', async () => {
    expect((await runCliIn({ env: env() }, ['init', '--data-dir', db.dataDir])).code).toBe(0);
    const res = await runCliIn({ cwd: elsewhere, env: env() }, ['keys', 'list', '-p', 'shop', '--data-dir', db.dataDir]);
    expect(res.code).toBe(1);
    expect(res.err).toContain(`No project with id or name "shop" in ${db.databaseUrl ? 'the PostgreSQL database of DATABASE_URL' : `the data dir ${db.dataDir}`}.`);
    // Never the database URL itself: it holds a password.
    if (db.databaseUrl) expect(res.err).not.toContain(db.databaseUrl);
  });
});

describe.runIf(engines().includes('postgres'))('PostgreSQL without the data dir that holds its master key', () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabaseUrl('postgres');
  });
  afterEach(async () => { await db.cleanup(); });

  it('refuses instead of generating a new master key (which would leave the stored secrets unreadable)', async () => {
    expect((await runCliIn({ env: { DATABASE_URL: db.databaseUrl } }, ['init', '--data-dir', db.dataDir])).code).toBe(0);
    const empty = join(db.dataDir, 'not-the-data-dir');
    const res = await runCliIn({ env: { DATABASE_URL: db.databaseUrl } }, ['keys', 'list', '-p', 'default', '--data-dir', empty]);
    expect(res.code).toBe(2);
    expect(res.err).toContain(`No master key in ${empty}`);
    expect(existsSync(empty)).toBe(false);
  });
});

// `gatehouse backup` copies the database while a real server process keeps serving writes, and
// `gatehouse restore` brings it back into an empty data dir or database: every write the server
// acknowledged before the backup began is in the restored copy, on both engines.
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../src/crypto/index.js';
import { generousLimitsEnv } from '../data/fixtures.js';
import { applyNotesSchema, call, readNotes, writeNote } from '../faults/notes.js';
import { runCliOn } from '../harness/cli.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';
import { allMigrations } from '../../src/db/migrations/index.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

describe.each(engines())('backup and restore under write load (%s)', (engine) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const fresh = async (): Promise<FreshDatabase> => {
    const db = await freshDatabaseUrl(engine);
    cleanups.push(() => db.cleanup());
    return db;
  };
  const spawn = async (db: { dataDir: string; databaseUrl: string | undefined }, env: Record<string, string>): Promise<GatehouseProcess> => {
    const gh = await spawnGatehouse({ dataDir: db.dataDir, databaseUrl: db.databaseUrl, env });
    cleanups.push(async () => {
      if (gh.alive()) {
        gh.kill('SIGKILL');
        await gh.exited;
      }
    });
    return gh;
  };

  it('every write acknowledged before the backup began is in the restored copy, and the server served throughout', async () => {
    const source = await fresh();
    const env = { ...generousLimitsEnv(), GATEHOUSE_MASTER_KEY: generateMasterKey() };
    const server = await spawn(source, env);
    const key = server.secretKey!;
    await applyNotesSchema(server.url, key);
    // A user signed up: the project's token signing key now exists, sealed under a data key that
    // the master key wraps. Signing in on the restored copy must unseal it.
    const publishable = /publishable \(client side\): (\S+)/.exec(server.output())![1]!;
    const user = { email: 'backup@example.test', password: 'a long enough password 1' };
    expect((await call(server.url, publishable, 'POST', '/auth/v1/signup', user)).status).toBe(200);

    const acknowledged: Array<{ id: string; at: number }> = [];
    let stop = false;
    let failures = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop && acknowledged.length < 900; i++) {
        const res = await writeNote(server.url, key, `w${w}-${i}`);
        if (res.status === 201) acknowledged.push({ id: res.body[0].id, at: Date.now() });
        else failures++;
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 5));

    const file = join(await mkdtemp(join(tmpdir(), 'gh-backup-')), 'gatehouse.backup');
    cleanups.push(() => rm(join(file, '..'), { recursive: true, force: true }));
    const backupBegan = Date.now();
    const backup = await runCliOn(source, ['--json', 'backup', file, '--pg-bin', PG_BIN]);
    const backupEnded = Date.now();
    expect(backup.code, backup.err).toBe(0);
    const summary = JSON.parse(backup.out) as { engine: string; bytes: number; migration: string; master_key_ids: string[] };
    // The backup names the newest migration it holds: this build's last one.
    expect(summary).toMatchObject({ engine, migration: Object.keys(allMigrations(engine)).at(-1) });
    expect(summary.master_key_ids).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The server kept acknowledging writes after the backup began.
    const ackedBy = (t: number) => acknowledged.filter((a) => a.at <= t).length;
    while (acknowledged.length < ackedBy(backupEnded) + 20 && acknowledged.length < 900) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await writers;
    expect(failures).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(ackedBy(backupBegan));
    server.kill('SIGTERM');
    await server.exited;

    const target = await fresh();
    const restoreArgs = engine === 'sqlite' ? ['--data-dir', target.dataDir] : ['--database-url', target.databaseUrl!, '--pg-bin', PG_BIN];
    const restored = await runCliOn({ dataDir: target.dataDir }, ['restore', file, ...restoreArgs]);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`master key with id ${summary.master_key_ids[0]}`);
    if (engine === 'sqlite') {
      expect(statSync(target.dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(target.dataDir, 'gatehouse.db')).mode & 0o777).toBe(0o600);
    }

    const again = await spawn(target, env);
    const stored = new Set((await readNotes(again.url, key)).map((n) => n.id));
    const before = acknowledged.filter((a) => a.at < backupBegan);
    expect(before.length).toBeGreaterThanOrEqual(60);
    expect(before.filter((a) => !stored.has(a.id))).toEqual([]);
    const signIn = await call(again.url, publishable, 'POST', '/auth/v1/token?grant_type=password', user);
    expect(signIn.status, JSON.stringify(signIn.body)).toBe(200);
    expect(signIn.body.access_token).toEqual(expect.any(String));
    const verdict = await call(again.url, key, 'GET', '/admin/v1/audit/verify');
    expect(verdict.body).toMatchObject({ ok: true });
  }, 120_000);
});

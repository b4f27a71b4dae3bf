// Migration 0012 chains the audit entries already present (in the order they were written), so an
// entry written before the upgrade and edited after it shows like any other; writes after the
// upgrade continue each chain.
import { Migrator, type MigrationProvider } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { allMigrations } from '../../src/db/migrations/index.js';
import { createAuditLog, verifyAuditChain } from '../../src/observability/index.js';
import { systemClock } from '../../src/shared/clock.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';

describe.each(engines())('migration 0012 chains the audit log already there (%s)', (engine) => {
  let fresh: FreshDatabase | null = null;
  let storage: Storage | null = null;
  afterEach(async () => {
    await storage?.close();
    await fresh?.cleanup();
  });

  it('entries written before the upgrade verify after it, and an edit of one of them shows', async () => {
    fresh = await freshDatabaseUrl(engine);
    storage = openStorage({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir });
    const provider: MigrationProvider = { getMigrations: async () => allMigrations(storage!.engine) };
    const migrator = new Migrator({ db: storage.db, provider, migrationTableName: 'gatehouse_migrations', migrationLockTableName: 'gatehouse_migrations_lock' });
    expect((await migrator.migrateTo('0011-security-event-retention')).error).toBeUndefined();

    const old = (i: number, environment: string | null, project = 'prj_a') => ({
      project_id: project, environment, actor: 'cli', action: `act.${i}`, target: null, details: JSON.stringify({ i }), created_at: `2026-01-0${i}T00:00:00.000Z`,
    });
    // Interleaved chains, and ids not in chain order within the table.
    const before = [old(1, 'dev'), old(2, null), old(3, 'dev'), old(4, 'prod'), old(5, 'dev'), old(6, 'dev', 'prj_b')];
    for (const row of before) await (storage.db as any).insertInto('audit_log').values(row).execute();

    expect(await migrateToLatest(storage)).toContain('0012-audit-chain');
    const log = createAuditLog({ db: storage.db, clock: systemClock });
    const dev = await verifyAuditChain(log, 'prj_a', 'dev');
    expect(dev).toMatchObject({ ok: true, entries: 3, head: { seq: 3 } });
    for (const [project, environment, entries] of [['prj_a', null, 1], ['prj_a', 'prod', 1], ['prj_b', 'dev', 1]] as const) {
      expect(await verifyAuditChain(log, project, environment)).toMatchObject({ ok: true, entries });
    }
    const rows = await storage.db.selectFrom('audit_log').select(['action', 'seq']).where('project_id', '=', 'prj_a').where('environment', '=', 'dev').orderBy('seq').execute();
    expect(rows.map((r) => [r.action, Number(r.seq)])).toEqual([['act.1', 1], ['act.3', 2], ['act.5', 3]]);

    // Writes after the upgrade continue the chain.
    await log.write({ projectId: 'prj_a', environment: 'dev', actor: 'cli', action: 'act.7' });
    expect(await verifyAuditChain(log, 'prj_a', 'dev')).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } });

    await storage.db.updateTable('audit_log').set({ target: 'someone-else' }).where('action', '=', 'act.3').execute();
    expect((await verifyAuditChain(log, 'prj_a', 'dev')).problem).toMatchObject({ kind: 'changed', seq: 2 });
  });
});

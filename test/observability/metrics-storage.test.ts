// Storage-side metrics on both engines: data API rows read and written (supabase-js), the
// write-behind buffers' depth and lost entries, and the PostgreSQL pool (absent on SQLite, which
// has one connection and no queue).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { applySchema, client, generousLimitsEnv } from '../data/fixtures.js';
import { delta, METRICS_TOKEN, scrape } from './scrape.js';

const ROWS = 'gatehouse_data_rows_total';

describe.each(engines())('storage metrics (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true, env: { ...generousLimitsEnv(), GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });
    await applySchema(gh, gh.secretKey);
  });
  afterAll(() => gh?.close());

  it('counts data API rows read, inserted, updated and deleted', async () => {
    const db = client(gh, gh.secretKey);
    const title = 'title-distinctive-5be1';
    const d = await delta(gh.app, async () => {
      const inserted = await db.from('todos').insert([{ title }, { title }, { title: 'other' }]).select();
      expect(inserted.error).toBeNull();
      const read = await db.from('todos').select('*');
      expect(read.data).toHaveLength(3);
      const updated = await db.from('todos').update({ done: true }).eq('title', title).select();
      expect(updated.data).toHaveLength(2);
      const deleted = await db.from('todos').delete().eq('title', 'other');
      expect(deleted.error).toBeNull();
    });
    expect(d(ROWS, { operation: 'inserted' })).toBe(3);
    expect(d(ROWS, { operation: 'read' })).toBe(3);
    expect(d(ROWS, { operation: 'updated' })).toBe(2);
    expect(d(ROWS, { operation: 'deleted' })).toBe(1);
    expect((await scrape(gh.app)).text).not.toContain(title);
  });

  it('shows entries waiting in a buffer, and counts entries lost when the database refuses their batch', async () => {
    // Stop the background writer's timer (it stores what is queued): from here on only an
    // explicit flush stores, so what the refused keys queue stays visible.
    await gh.deps.writer.close();
    const refuse = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: 'sk_dev_not_a_real_key' }, remoteAddress: `198.51.100.${i + 1}` });
        expect(res.statusCode).toBe(401);
      }
    };
    const before = await scrape(gh.app);
    await refuse(3);
    const waiting = await scrape(gh.app);
    expect(waiting.value('gatehouse_buffer_depth', { buffer: 'security_events' })).toBe(before.value('gatehouse_buffer_depth', { buffer: 'security_events' }) + 3);

    // The table goes away: the batch fails, is logged and dropped, and counted as lost.
    await sql`ALTER TABLE security_events RENAME TO security_events_away`.execute(gh.deps.storage.db);
    try {
      await gh.deps.writer.flush();
    } finally {
      await sql`ALTER TABLE security_events_away RENAME TO security_events`.execute(gh.deps.storage.db);
    }
    const after = await scrape(gh.app);
    expect(after.value('gatehouse_buffer_depth', { buffer: 'security_events' })).toBe(0);
    expect(after.value('gatehouse_buffer_dropped_total', { buffer: 'security_events' }) - before.value('gatehouse_buffer_dropped_total', { buffer: 'security_events' }))
      .toBeGreaterThanOrEqual(3);
    expect(after.has('gatehouse_buffer_depth', { buffer: 'usage' })).toBe(true);
    expect(after.has('gatehouse_buffer_depth', { buffer: 'request_log' })).toBe(true);
    expect(after.text).not.toContain('198.51.100.');
  });

  it.runIf(engine === 'postgres')('shows the PostgreSQL pool: connections in use, and queries waiting for one', async () => {
    const db = gh.deps.storage.db;
    const poolSize = 10;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = Array.from({ length: poolSize }, () => db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await gate;
    }));
    await expect.poll(async () => (await scrape(gh.app)).value('gatehouse_db_pool_connections', { state: 'in_use' })).toBe(poolSize);
    const queued = sql`select 1`.execute(db);
    const busy = await scrape(gh.app);
    expect(busy.value('gatehouse_db_pool_connections', { state: 'waiting' })).toBe(1);
    release();
    await Promise.all([...held, queued]);
    const idle = await scrape(gh.app);
    expect(idle.value('gatehouse_db_pool_connections', { state: 'in_use' })).toBe(0);
    expect(idle.value('gatehouse_db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(idle.value('gatehouse_db_pool_connections', { state: 'idle' })).toBeGreaterThan(0);
  });

  it.runIf(engine === 'sqlite')('has no pool gauge on SQLite (one connection, no queue)', async () => {
    expect((await scrape(gh.app)).has('gatehouse_db_pool_connections')).toBe(false);
  });
});

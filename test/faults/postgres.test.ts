// PostgreSQL failing under a running Gatehouse (a child process, on a PostgreSQL of this file's own,
// so the run's shared server is never disturbed): a backend terminated in the middle of a
// transaction, terminations under load, and a `pg_ctl -m fast` stop and start. The process must
// survive all of it, answer 503 (never 500) while the database is gone, log the outage once, and
// serve again as soon as the database is back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generousLimitsEnv } from '../data/fixtures.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';
import { createDatabase, startPostgres, type PostgresServer, type TestDatabase } from '../harness/postgres.js';
import { applyNotesSchema, call, pooled, readNotes, within, writeNote, type Reply } from './notes.js';

const METRICS_TOKEN = 'metrics-token-faults-0123456789abcdef';

describe.skipIf(inject('postgresUrl') === null)('PostgreSQL faults under a running Gatehouse', () => {
  let server: PostgresServer;
  let database: TestDatabase;
  let dataDir: string;
  let gh: GatehouseProcess;
  let key: string;
  const acknowledged = new Set<string>();
  const dbName = () => new URL(database.url).pathname.slice(1);
  const countLogs = (msg: string) => gh.logs().filter((l) => l.msg === msg).length;
  const write = async (body: string): Promise<Reply> => {
    const res = await writeNote(gh.url, key, body);
    if (res.status === 201) acknowledged.add(res.body[0].id);
    return res;
  };

  beforeAll(async () => {
    server = await startPostgres();
    database = await createDatabase(server.url);
    dataDir = await mkdtemp(join(tmpdir(), 'gh-faults-pg-'));
    gh = await spawnGatehouse({ dataDir, databaseUrl: database.url, env: { ...generousLimitsEnv(), GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });
    key = gh.secretKey!;
    await applyNotesSchema(gh.url, key);
  }, 120_000);

  afterAll(async () => {
    if (gh?.alive()) {
      gh.kill('SIGKILL');
      await gh.exited;
    }
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a backend terminated while its transaction waits: that request is 503 in the PostgREST shape, and the process lives on', async () => {
    // Our own session holds the table's lock, so Gatehouse's insert waits inside its transaction
    // on a checked-out connection: exactly where pg-pool has no error listener.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      const { rows } = await blocker.query<{ name: string }>(
        // User tables are stored as d_<hash>; notes is the only one.
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'd\\_%'",
      );
      expect(rows).toHaveLength(1);
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${rows[0]!.name}" IN ACCESS EXCLUSIVE MODE`);
      const pending = write('waits for the lock');
      await within(5_000, async () => {
        const waiting = await blocker.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [dbName()]);
        return waiting.rowCount === 1;
      });
      expect(await server.terminateBackends(dbName(), "wait_event_type = 'Lock'")).toBe(1);

      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toMatchObject({ code: 'service_unavailable', error: 'service_unavailable', hint: null });
      expect(res.body.message).not.toMatch(/terminat|postgres|admin/i);
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
    expect(gh.alive()).toBe(true);
    expect((await write('after the termination')).status).toBe(201);
  });

  it('terminations under load and a fast stop: never a crash or a 500, 503 while down on every surface, logged once, back within 2 s', async () => {
    // Load with every backend terminated five times while it runs.
    let stop = false;
    const terminator = (async () => {
      for (let i = 0; i < 5 && !stop; i++) {
        await new Promise((r) => setTimeout(r, 30));
        await server.terminateBackends(dbName());
      }
    })();
    const underLoad = await pooled(120, 6, (i) => write(`load ${i}`));
    stop = true;
    await terminator;
    expect(gh.alive()).toBe(true);
    expect(underLoad.filter((r) => r.status !== 201 && r.status !== 503)).toEqual([]);
    expect(underLoad.filter((r) => r.status === 201).length).toBeGreaterThan(0);

    // A fast stop while writes are in flight.
    const inFlight = pooled(24, 6, (i) => write(`stop ${i}`));
    await server.halt('fast');
    const during = await inFlight;
    expect(during.filter((r) => r.status !== 201 && r.status !== 503)).toEqual([]);
    // Down now, and logged as such: each outage is one line down and one line up.
    const downBefore = countLogs('database unavailable');
    const upBefore = countLogs('database available again');
    expect(downBefore - upBefore).toBe(1);

    const rest = await pooled(20, 4, (i) => write(`down ${i}`));
    for (const res of rest) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.code).toBe('service_unavailable');
    }
    // Each surface in its own dialect.
    const admin = await call(gh.url, key, 'GET', '/admin/v1/project');
    expect(admin.status).toBe(503);
    expect(admin.body).toMatchObject({ error: 'service_unavailable', retry_after: 1 });
    const auth = await call(gh.url, key, 'POST', '/auth/v1/token?grant_type=password', { email: 'a@example.com', password: 'correct horse battery' });
    expect(auth.status).toBe(503);
    expect(auth.body).toMatchObject({ code: 503, error_code: 'service_unavailable' });
    const llm = await call(gh.url, key, 'POST', '/llm/openai/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    expect(llm.status).toBe(503);
    expect(llm.body).toMatchObject({ error: { code: 'service_unavailable', type: 'server_error' } });
    expect(llm.headers.get('retry-after')).toBe('1');
    const ready = await fetch(`${gh.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(gh.alive()).toBe(true);
    // No more lines, however many requests failed, and no stack trace per request.
    expect(countLogs('database unavailable')).toBe(downBefore);
    expect(gh.output()).not.toMatch(/"msg":"request failed"/);

    await server.resume();
    await within(2_000, async () => (await write('back')).status === 201);
    expect(countLogs('database available again') - upBefore).toBe(1);

    const metrics = await fetch(`${gh.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then((r) => r.text());
    const line = metrics.split('\n').find((l) => l.startsWith('gatehouse_service_unavailable_total{service="database"} '));
    expect(Number(line?.split(' ')[1])).toBeGreaterThanOrEqual(rest.length + 4);

    // Every acknowledged write is stored.
    const stored = new Set((await readNotes(gh.url, key)).map((n) => n.id));
    for (const id of acknowledged) expect(stored.has(id)).toBe(true);
    expect(gh.alive()).toBe(true);
  }, 60_000);
});

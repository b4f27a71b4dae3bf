// Realtime change feed figures (issue 16), on SQLite and, when available, PostgreSQL:
// 1. fan-out of one Data API write to 1,000 and 10,000 feed subscribers (half may see the row,
//    half may not; every subscriber its own caller): delivery latency p50/p99 from the start of
//    the write, and CPU per delivered event (CPU of writes with subscribers minus the same writes
//    without, measured in the same run);
// 2. what listening costs the Data API's writes themselves (the sequence upsert, the read of the
//    old rows for updates): insert and update latency with the change hook vs without, same run.
// 3. the same two for storage objects (schema storage, table objects): fan-out of one upload,
//    and upload / replace latency with the object-change hook vs without, same run.
// Ratios, not absolute numbers, are what compare across machines. No socket here: the socket
// helper measures the over-the-wire variant.
//   npx tsx bench/realtime.ts        (BENCH_WRITES=20)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaller, type Caller } from '../src/access/index.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createDataService, parseQuery, DEFAULT_QUERY_LIMITS } from '../src/data/index.js';
import { insertRows, updateRows } from '../src/data/rows/write.js';
import { createDeps } from '../src/deps.js';
import { createLogger } from '../src/observability/index.js';
import { createProjectWithDevKeys } from '../src/operations/create-project.js';
import type { ChangePayload } from '../src/realtime/index.js';
import { createStorageService } from '../src/storage/index.js';
import { actorOf } from '../src/storage/context.js';
import { createDatabase, startPostgres } from '../test/harness/postgres.js';
import { Readable } from 'node:stream';
import type { Deps } from '../src/deps.js';

const writes = Number(process.env.BENCH_WRITES ?? 20);
const SCHEMA = {
  tables: {
    todos: {
      columns: { title: { type: 'text', required: true }, note: { type: 'text', read: ['self', 'admin'] }, public: { type: 'boolean', default: false } },
      rules: { select: ['admin', 'self'], insert: ['user'], update: ['self'], delete: ['self'] },
    },
  },
};

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function run(label: string, env: Record<string, string>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-rt-'));
  const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent', ...env } });
  const deps = await createDeps(config, { logger: createLogger({ level: 'silent' }) });
  const app = await buildApp(deps);
  await app.ready();
  try {
    const { publishableKey, secretKey } = await createProjectWithDevKeys(deps, 'bench', 'bench');
    const applied = await app.inject({ method: 'PUT', url: '/admin/v1/schema', headers: { apikey: secretKey }, payload: { schema: SCHEMA } });
    if (applied.statusCode !== 200) throw new Error(applied.body);
    const signup = await app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { apikey: publishableKey }, payload: { email: 'writer@example.test', password: 'bench-password-long-enough' } });
    const token = signup.json().access_token as string;
    const key = await deps.apiKeys.verify(publishableKey);
    const writer = createCaller(key, await deps.identity.userTokens.verify(key.projectId, key.environment, token));
    const headers = { apikey: publishableKey, authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const write = (i: number) => app.inject({ method: 'POST', url: '/rest/v1/todos', headers, payload: { title: `t${i}`, note: 'n' } });

    console.log(`${label}:`);
    // Baseline CPU: the same writes with nobody subscribed.
    for (let i = 0; i < 5; i++) await write(i);
    let cpu0 = cpuMs();
    for (let i = 0; i < writes; i++) await write(i);
    await new Promise((r) => setTimeout(r, 50));
    const baselineCpu = (cpuMs() - cpu0) / writes;

    for (const n of [1_000, 10_000]) {
      let started = 0;
      let delivered = 0;
      const latencies: number[] = [];
      let waiting: (() => void) | null = null;
      const deliver = (_p: ChangePayload) => {
        latencies.push(performance.now() - started);
        if (++delivered % (n / 2) === 0) waiting?.();
      };
      const subs = [];
      for (let i = 0; i < n; i++) {
        // Half are the writer (own rows: allowed), half other users (not allowed); each its own caller.
        const caller: Caller = i % 2 === 0 ? createCaller(writer.key, { ...writer.user! }) : createCaller(writer.key, { id: `usr_other_${i}`, role: 'user', sessionId: null, claims: {} });
        subs.push(await deps.realtime.feed.subscribe({ environment: { projectId: caller.projectId, environment: caller.environment }, caller: () => caller, deliver }, { event: '*', table: 'todos' }));
      }
      const once = async (i: number) => {
        const done = new Promise<void>((r) => { waiting = r; });
        started = performance.now();
        await write(i);
        await done;
      };
      for (let i = 0; i < 3; i++) await once(i); // warm-up: views built
      latencies.length = 0;
      delivered = 0;
      cpu0 = cpuMs();
      for (let i = 0; i < writes; i++) await once(i);
      const cpu = cpuMs() - cpu0 - baselineCpu * writes;
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`  fan-out to ${String(n).padStart(6)} subscribers (half allowed): ${delivered / writes} delivered per write, ` +
        `delivery p50 ${pct(sorted, 0.5).toFixed(2)} ms p99 ${pct(sorted, 0.99).toFixed(2)} ms (from the write's start), ` +
        `CPU ${((cpu * 1000) / delivered).toFixed(2)} µs per delivered event (write alone: ${baselineCpu.toFixed(2)} ms CPU)`);
      for (const s of subs) s.unsubscribe();
    }

    // The change hook's cost to the writes themselves, on the same table and caller.
    const plain = createDataService({ storage: deps.storage, clock: deps.clock });
    const ctxs = { without: (await plain.open(writer, 'todos')), with: (await deps.data.open(writer, 'todos')) };
    const q = (s: Record<string, string>) => parseQuery(s, DEFAULT_QUERY_LIMITS);
    const req = (o: { table: any; auth: any }, body: unknown, query = q({})) => ({ table: o.table, auth: o.auth, query, body, returning: null, stripNulls: false, expectOne: false });
    const timeIt = async (fn: () => Promise<unknown>) => {
      const t: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await fn();
        t.push(performance.now() - s);
      }
      return t.sort((a, b) => a - b);
    };
    await write(-1).then(() => app.inject({ method: 'POST', url: '/rest/v1/todos', headers, payload: { title: 'upd' } }));
    const results: Record<string, number[]> = {};
    for (let round = 0; round < 2; round++) {
      for (const mode of ['without', 'with'] as const) {
        const o = ctxs[mode];
        results[`insert ${mode}`] = await timeIt(() => insertRows(o.ctx, req(o, { title: 'x' })));
        results[`update ${mode}`] = await timeIt(() => updateRows(o.ctx, req(o, { note: 'y' }, q({ title: 'eq.upd' }))));
      }
    }
    for (const op of ['insert', 'update']) {
      const a = results[`${op} without`]!;
      const b = results[`${op} with`]!;
      console.log(`  Data API ${op} (1 row): p50 ${pct(a, 0.5).toFixed(3)} → ${pct(b, 0.5).toFixed(3)} ms with the change hook ` +
        `(×${(pct(b, 0.5) / pct(a, 0.5)).toFixed(2)}), p99 ${pct(a, 0.99).toFixed(3)} → ${pct(b, 0.99).toFixed(3)} ms, nobody subscribed`);
    }
    await storageObjects(deps, app, writer, headers);
  } finally {
    await app.close();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Fan-out of one upload to subscribers of storage.objects, and what the hook costs uploads. */
async function storageObjects(deps: Deps, app: Awaited<ReturnType<typeof buildApp>>, writer: Caller, headers: Record<string, string>): Promise<void> {
  // Private (the default rules: owner and admins): half the subscribers below are the writer.
  await deps.files.buckets.create(actorOf(writer), { id: 'bench' });
  const prefix = writer.user!.id;
  const upload = (i: number) => app.inject({
    method: 'POST', url: `/storage/v1/object/bench/${prefix}/fan-${i}-${Math.random()}.txt`, payload: Buffer.from('x'),
    headers: { ...headers, 'content-type': 'text/plain' },
  });
  for (const n of [1_000, 10_000]) {
    let started = 0;
    let delivered = 0;
    const latencies: number[] = [];
    let waiting: (() => void) | null = null;
    const deliver = () => {
      latencies.push(performance.now() - started);
      if (++delivered % (n / 2) === 0) waiting?.();
    };
    const subs = [];
    for (let i = 0; i < n; i++) {
      const caller: Caller = i % 2 === 0 ? createCaller(writer.key, { ...writer.user! }) : createCaller(writer.key, { id: `usr_other_${i}`, role: 'user', sessionId: null, claims: {} });
      subs.push(await deps.realtime.feed.subscribe({ environment: { projectId: caller.projectId, environment: caller.environment }, caller: () => caller, deliver }, { event: '*', schema: 'storage', table: 'objects' }));
    }
    const once = async (i: number) => {
      const done = new Promise<void>((r) => { waiting = r; });
      started = performance.now();
      const res = await upload(i);
      if (res.statusCode !== 200) throw new Error(res.body);
      await done;
    };
    for (let i = 0; i < 3; i++) await once(i);
    latencies.length = 0;
    delivered = 0;
    const cpu0 = cpuMs();
    for (let i = 0; i < writes; i++) await once(i);
    const cpu = cpuMs() - cpu0;
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`  storage.objects fan-out to ${String(n).padStart(6)} subscribers (half allowed): ${delivered / writes} delivered per upload, ` +
      `delivery p50 ${pct(sorted, 0.5).toFixed(2)} ms p99 ${pct(sorted, 0.99).toFixed(2)} ms, CPU ${((cpu * 1000) / delivered).toFixed(2)} µs per delivered event (upload included)`);
    for (const s of subs) s.unsubscribe();
  }

  // The hook's cost to uploads themselves: the same service without it, same bucket and user.
  const plain = createStorageService({ config: deps.config, storage: deps.storage, clock: deps.clock, audit: deps.audit, signingKeys: deps.identity.signingKeys });
  const services = { without: plain, with: deps.files };
  const actor = actorOf(writer);
  const body = () => ({ stream: Readable.from([Buffer.from('x')]), contentType: 'text/plain', declaredBytes: 1, cacheControl: undefined, metadata: undefined });
  const results: Record<string, number[]> = {};
  let k = 0;
  for (let round = 0; round < 2; round++) {
    for (const mode of ['without', 'with'] as const) {
      const files = services[mode];
      const times = { insert: [] as number[], replace: [] as number[] };
      for (let i = 0; i < 200; i++) {
        const name = `${prefix}/hook-${k++}.txt`;
        let t = performance.now();
        await files.upload(actor, 'bench', name, { upsert: false, replaceOnly: false }, body());
        times.insert.push(performance.now() - t);
        t = performance.now();
        await files.upload(actor, 'bench', name, { upsert: true, replaceOnly: false }, body());
        times.replace.push(performance.now() - t);
      }
      results[`upload ${mode}`] = times.insert.sort((a, b) => a - b);
      results[`replace ${mode}`] = times.replace.sort((a, b) => a - b);
    }
  }
  for (const op of ['upload', 'replace']) {
    const a = results[`${op} without`]!;
    const b = results[`${op} with`]!;
    console.log(`  Storage ${op} (1 byte): p50 ${pct(a, 0.5).toFixed(3)} → ${pct(b, 0.5).toFixed(3)} ms with the change hook ` +
      `(×${(pct(b, 0.5) / pct(a, 0.5)).toFixed(2)}), p99 ${pct(a, 0.99).toFixed(3)} → ${pct(b, 0.99).toFixed(3)} ms, nobody subscribed`);
  }
}

await run('SQLite (in-process bus)', {});
const pg = process.env.DATABASE_URL ? null : await startPostgres().catch(() => null);
const pgUrl = process.env.DATABASE_URL ?? pg?.url;
if (pgUrl) {
  const db = await createDatabase(pgUrl);
  try {
    await run('PostgreSQL (LISTEN/NOTIFY bus)', { DATABASE_URL: db.url });
  } finally {
    await db.drop();
  }
} else {
  console.log('PostgreSQL not available: skipped');
}
await pg?.stop();

// Data API figures (issue #4): an RLS-filtered point read by id and a 50-row
// filtered list, as requests per second and p99, beside a constant-JSON route
// measured in the same run (through the same Gatehouse pipeline, and on a bare
// Fastify), on SQLite and, when available, PostgreSQL. Ratios, not absolute
// numbers, are what compare across machines.
//   npx tsx bench/data.ts            (BENCH_SECONDS=10, BENCH_CONNECTIONS=32)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createDeps } from '../src/deps.js';
import { createLogger } from '../src/observability/index.js';
import { createProjectWithDevKeys } from '../src/operations/create-project.js';
import { createDatabase, startPostgres } from '../test/harness/postgres.js';

type Result = { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number };
const autocannon = (await import('autocannon' as string)).default as (o: Record<string, unknown>) => Promise<Result>;

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

const SCHEMA = {
  tables: {
    todos: {
      columns: {
        title: { type: 'text', required: true }, done: { type: 'boolean', default: false }, public: { type: 'boolean', default: false },
        note: { type: 'text', read: ['self', 'admin'], write: ['self', 'admin'] }, priority: { type: 'integer' },
      },
      rules: { select: ['admin', 'self', 'public == true'], insert: ['user'], update: ['self'], delete: ['self'] },
    },
  },
};

async function measure(url: string, headers: Record<string, string> = {}): Promise<Result> {
  await autocannon({ url, connections, duration: 2, headers }); // warm-up
  const r = await autocannon({ url, connections, duration: seconds, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
}

async function run(label: string, env: Record<string, string>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-data-'));
  const configFile = join(dataDir, 'limits.json');
  const windows = [{ limit: 100_000_000, windowMs: 60_000 }];
  const tiers = { guest: windows, user: windows, admin: windows };
  const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'default'].map((c) => [c, { failMode: 'open', tiers }]));
  writeFileSync(configFile, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows } } }));
  const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent', GATEHOUSE_CONFIG: configFile, ...env } });
  const deps = await createDeps(config, { logger: createLogger({ level: 'silent' }) });
  const app = await buildApp(deps);
  app.get('/bench/constant', { config: { auth: 'public' }, schema: { hide: true } }, async () => ({ ok: true, items: [1, 2, 3] }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const bare = Fastify();
  bare.get('/constant', async () => ({ ok: true, items: [1, 2, 3] }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { publishableKey, secretKey } = await createProjectWithDevKeys(deps, 'bench', 'bench');
    const applied = await app.inject({ method: 'PUT', url: '/admin/v1/schema', headers: { apikey: secretKey }, payload: { schema: SCHEMA } });
    if (applied.statusCode !== 200) throw new Error(applied.body);
    const tokens: string[] = [];
    for (let u = 0; u < 4; u++) {
      const res = await app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { apikey: publishableKey }, payload: { email: `bench${u}@example.test`, password: `bench-password-${u}-long-enough` } });
      if (res.statusCode !== 200) throw new Error(res.body);
      tokens.push(res.json().access_token as string);
    }
    // 4 users × 2,500 rows; a quarter public. The reader owns a quarter of the table.
    let someId = '';
    for (const [u, token] of tokens.entries()) {
      for (let batch = 0; batch < 5; batch++) {
        const rows = Array.from({ length: 500 }, (_, i) => ({ title: `todo ${u}-${batch}-${i}`, done: i % 3 === 0, public: i % 4 === 0, note: 'private', priority: i % 5 }));
        const res = await app.inject({ method: 'POST', url: '/rest/v1/todos?select=id', headers: { apikey: publishableKey, authorization: `Bearer ${token}`, prefer: 'return=representation' }, payload: rows });
        if (res.statusCode !== 201) throw new Error(res.body);
        if (u === 0 && batch === 2) someId = res.json()[250].id;
      }
    }
    const headers = { apikey: publishableKey, authorization: `Bearer ${tokens[0]}` };
    const bareR = await measure(`${bareUrl}/constant`);
    const constant = await measure(`${url}/bench/constant`);
    const point = await measure(`${url}/rest/v1/todos?id=eq.${someId}&select=*`, headers);
    const list = await measure(`${url}/rest/v1/todos?select=*&done=eq.false&order=created_at.desc&limit=50`, headers);
    const line = (name: string, r: Result) =>
      `  ${name.padEnd(48)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p99 ${String(r.latency.p99).padStart(4)} ms  ` +
      `×${(r.requests.average / constant.requests.average).toFixed(2)} of pipeline constant, ×${(r.requests.average / bareR.requests.average).toFixed(2)} of bare`;
    console.log(`${label} (10,000 rows, ${connections} connections, ${seconds} s each):`);
    console.log(line('bare Fastify constant JSON', bareR));
    console.log(line('Gatehouse pipeline constant JSON (public)', constant));
    console.log(line('RLS point read by id (pk + user JWT)', point));
    console.log(line('RLS 50-row filtered list (done=false, ordered)', list));
  } finally {
    await bare.close();
    await app.close();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await run('SQLite', {});
const pg = process.env.DATABASE_URL ? null : await startPostgres().catch(() => null);
const pgUrl = process.env.DATABASE_URL ?? pg?.url;
if (pgUrl) {
  const db = await createDatabase(pgUrl);
  try {
    await run('PostgreSQL', { DATABASE_URL: db.url });
  } finally {
    await db.drop();
  }
} else {
  console.log('PostgreSQL not available: skipped');
}
await pg?.stop();

// Chassis figures: start-up time to ready, and the cost of resolving an API key
// (cold = database lookup, warm = hot cache), on SQLite and (when DATABASE_URL
// or a local PostgreSQL is given) PostgreSQL. Ratios are against a constant
// route measured in the same run, since absolute numbers vary by machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';
import { createDeps } from '../src/deps.js';
import { createLogger } from '../src/observability/index.js';
import { createProjectWithDevKeys } from '../src/operations/create-project.js';
import { startPostgres } from '../test/harness/postgres.js';

const silent = createLogger({ level: 'silent' });

async function startupMs(env: Record<string, string>): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent', ...env } });
  const t0 = performance.now();
  const server = await startServer(config);
  const res = await fetch(`${server.url}/ready`);
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error('not ready');
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  return ms;
}

async function keyLookup(env: Record<string, string>, label: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  const deps = await createDeps(loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, ...env } }), { logger: silent });
  const { secretKey } = await createProjectWithDevKeys(deps, 'bench', 'bench');
  const n = 5000;
  const uncached = await createDeps(loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_KEY_CACHE_TTL_MS: '0', ...env } }), { logger: silent });
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await uncached.apiKeys.verify(secretKey);
  const coldUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await deps.apiKeys.verify(secretKey);
  const warmUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await deps.apiKeys.verify(secretKey.slice(0, -1) + 'x').catch(() => {});
  const typoUs = ((performance.now() - t0) * 1000) / n;
  console.log(`${label}: key verify — database ${coldUs.toFixed(1)} µs, cached ${warmUs.toFixed(1)} µs, typo (checksum, no lookup) ${typoUs.toFixed(1)} µs`);
  await uncached.close();
  await deps.close();
  rmSync(dataDir, { recursive: true, force: true });
}

async function httpOverhead(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' } });
  const server = await startServer(config);
  const key = server.firstRun!.secretKey;
  const run = (path: string, headers: Record<string, string> = {}) =>
    autocannon({ url: `${server.url}${path}`, connections: 20, duration: 5, headers });
  await run('/health'); // warm-up
  const base = await run('/health');
  const keyed = await run('/admin/v1/project', { apikey: key });
  console.log(`HTTP /health (no key): ${base.requests.average.toFixed(0)} req/s, p99 ${base.latency.p99} ms`);
  console.log(`HTTP /admin/v1/project (key + scope + DB read): ${keyed.requests.average.toFixed(0)} req/s, p99 ${keyed.latency.p99} ms, ratio ${(keyed.requests.average / base.requests.average).toFixed(2)}`);
  // The dashboard's request counting (onResponse, observability/request-stats.ts): its cost per
  // response, as a share of the time one /health request takes at the throughput above.
  const stats = server.deps.stats;
  const projectId = (await server.deps.projects.list())[0]!.id;
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) stats.record(projectId, 'dev', i % 50 === 0 ? 429 : 200, i % 4 === 0 ? `usr_${i % 1000}` : null);
  const recordNs = ((performance.now() - t0) * 1e6) / n;
  await stats.flush();
  const requestNs = 1e9 / base.requests.average;
  console.log(`request stats: ${recordNs.toFixed(0)} ns per response counted (1 in 4 signed in, 1000 users), ${(100 * recordNs / requestNs).toFixed(2)} % of one /health request's time at ${base.requests.average.toFixed(0)} req/s`);
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

const sqliteRuns = [];
for (let i = 0; i < 5; i++) sqliteRuns.push(await startupMs({}));
console.log(`start-up to ready, SQLite (fresh data dir, migrations, first project): median ${median(sqliteRuns).toFixed(0)} ms of ${sqliteRuns.map((m) => m.toFixed(0)).join(', ')}`);
await keyLookup({}, 'SQLite');

const pg = process.env.DATABASE_URL ? null : await startPostgres().catch(() => null);
const pgUrl = process.env.DATABASE_URL ?? pg?.url;
if (pgUrl) {
  const { createDatabase } = await import('../test/harness/postgres.js');
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const db = await createDatabase(pgUrl);
    runs.push(await startupMs({ DATABASE_URL: db.url }));
    await db.drop();
  }
  console.log(`start-up to ready, PostgreSQL: median ${median(runs).toFixed(0)} ms of ${runs.map((m) => m.toFixed(0)).join(', ')}`);
  const db = await createDatabase(pgUrl);
  await keyLookup({ DATABASE_URL: db.url }, 'PostgreSQL');
  await db.drop();
} else {
  console.log('PostgreSQL not available: skipped');
}
await pg?.stop();
await httpOverhead();

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

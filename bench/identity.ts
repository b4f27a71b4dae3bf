// Identity figures (issue #3 closing note): Argon2id hashes per second on this machine,
// sign-in latency over real HTTP, and whether other requests keep their latency while
// sign-ins hash (Argon2 runs on libuv's thread pool, so the event loop should stay free).
//
//   npx tsx bench/identity.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';
import { createPasswordHasher } from '../src/identity/passwords/index.js';
import { createProjectWithDevKeys } from '../src/operations/create-project.js';
import { createDatabase, startPostgres } from '../test/harness/postgres.js';

const OWASP = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  return { p50: at(50), p95: at(95), p99: at(99), max: s[s.length - 1]! };
}
const fmt = (p: ReturnType<typeof percentiles>) => `p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms`;

async function hashesPerSecond(): Promise<void> {
  // Ungated (4 = libuv's default pool) to measure the machine, not Gatehouse's gate.
  const hasher = await createPasswordHasher(OWASP, { concurrency: 4, queueMax: 1000 });
  const phc = await hasher.hash('benchmark password');
  for (const concurrency of [1, 4]) {
    const n = 40;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < n) await hasher.verify(phc, 'benchmark password');
    }));
    const s = (performance.now() - t0) / 1000;
    console.log(`Argon2id m=19456 t=2 p=1 verify: ${(n / s).toFixed(1)}/s at concurrency ${concurrency} (${((s * 1000) / n * concurrency).toFixed(1)} ms each)`);
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${availableParallelism()} CPUs, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
  await hashesPerSecond();
  await httpFigures('SQLite', {});
  // For comparison: as many hashes at once as libuv has threads (no gate below the core count).
  await httpFigures('SQLite, hash gate opened to 4', { GATEHOUSE_HASH_CONCURRENCY: '4' });
  // PostgreSQL when DATABASE_URL is given or a local server can be started (as the tests do).
  const pg = process.env.DATABASE_URL ? null : await startPostgres().catch(() => null);
  const pgUrl = process.env.DATABASE_URL ?? pg?.url;
  if (pgUrl) {
    const db = await createDatabase(pgUrl);
    try {
      await httpFigures('PostgreSQL', { DATABASE_URL: db.url });
    } finally {
      await db.drop();
      await pg?.stop();
    }
  } else {
    console.log('PostgreSQL: skipped (no DATABASE_URL and no local postgres binary)');
  }
}

async function httpFigures(engine: string, extraEnv: Record<string, string>): Promise<void> {
  console.log(`--- ${engine}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-identity-'));
  // Lift the auth rate limit and sign-in backoff: this measures hashing, not the limiter.
  const configFile = join(dataDir, 'bench.json');
  const wide = [{ limit: 1_000_000, windowMs: 60_000 }];
  writeFileSync(configFile, JSON.stringify({ rateLimits: { classes: Object.fromEntries(['auth', 'default'].map((c) => [c, { failMode: 'open', tiers: { guest: wide, user: wide, admin: wide } }])), address: { failMode: 'open', windows: wide } } }));
  const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent', GATEHOUSE_CONFIG: configFile, ...extraEnv } });
  const server = await startServer(config);
  try {
    const { publishableKey } = await createProjectWithDevKeys(server.deps, 'bench', 'bench');
    const headers = { apikey: publishableKey, 'content-type': 'application/json' };
    const email = 'bench@example.test';
    const password = 'a benchmark passphrase';
    const signUp = await fetch(`${server.url}/auth/v1/signup`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
    if (signUp.status !== 200) throw new Error(`sign-up failed: ${signUp.status} ${await signUp.text()}`);
    const signIn = async () => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/auth/v1/token?grant_type=password`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
      return performance.now() - t0;
    };
    const jwks = async () => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/auth/v1/.well-known/jwks.json`, { headers: { apikey: publishableKey } });
      await res.arrayBuffer();
      return performance.now() - t0;
    };
    for (let i = 0; i < 5; i++) { await signIn(); await jwks(); } // warm up

    const sequential: number[] = [];
    for (let i = 0; i < 40; i++) sequential.push(await signIn());
    console.log(`sign-in latency (sequential, HTTP):          ${fmt(percentiles(sequential))}`);

    const idle: number[] = [];
    for (let i = 0; i < 300; i++) idle.push(await jwks());
    console.log(`other request (GET jwks) alone:            ${fmt(percentiles(idle))}`);

    // Now a storm of concurrent sign-ins while the same light request is measured.
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    let stop = false;
    const stormLatencies: number[] = [];
    const storm = Promise.all(Array.from({ length: 16 }, async () => {
      while (!stop) stormLatencies.push(await signIn());
    }));
    await new Promise((r) => setTimeout(r, 300));
    const busy: number[] = [];
    for (let i = 0; i < 300; i++) busy.push(await jwks());
    stop = true;
    await storm;
    histogram.disable();
    console.log(`other request during 16 concurrent sign-ins: ${fmt(percentiles(busy))}`);
    console.log(`sign-in latency under that load:             ${fmt(percentiles(stormLatencies))} (${stormLatencies.length} sign-ins)`);
    console.log(`event-loop delay during the storm: mean ${(histogram.mean / 1e6).toFixed(2)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(2)} ms, max ${(histogram.max / 1e6).toFixed(2)} ms`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

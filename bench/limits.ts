// Rate-limiter overhead (issue #6), on the memory store and on Redis:
//   1. the raw store: sequential decisions (two windows each), ops/s and p50/p99 per decision;
//   2. through HTTP: one route served by the full Gatehouse pipeline with the limiter stages
//      (per-IP pre-check + per-subject check) and, in the same run, the same app with a limiter
//      that allows everything at no cost. The difference in mean latency is the overhead per
//      request; 1 connection gives latency, many give throughput.
//   npx tsx bench/limits.ts      (BENCH_SECONDS=2 per run, BENCH_ROUNDS=6, BENCH_CONNECTIONS=32; REDIS_URL or a throwaway redis-server)
// The HTTP figures are medians of alternating runs; on a busy machine trust the in-process
// `stages` line (the limiter's own work per request) over the HTTP difference.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createDeps, type Deps } from '../src/deps.js';
import { benchLimiter, MemoryStore, type RateLimits } from '../src/limits/index.js';
import { createLimiterRedisClient, RedisStore } from '../src/limits/redis-store.js';
import { createLogger } from '../src/observability/index.js';
import { createProjectWithDevKeys } from '../src/operations/create-project.js';
import { findRedisBin, startRedis, type RedisServer } from '../test/harness/redis.js';

type Result = { requests: { average: number }; latency: { average: number; p50: number; p99: number }; non2xx: number; errors: number };
const autocannon = (await import('autocannon' as string)).default as (o: Record<string, unknown>) => Promise<Result>;

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const HUGE = { limit: 1_000_000_000, windowMs: 60_000 };
const tiers = { guest: [HUGE], user: [HUGE], admin: [HUGE] };
const RATE_LIMITS = {
  classes: { default: { failMode: 'closed', tiers } },
  address: { failMode: 'open', windows: [HUGE] },
};

/** Allows everything, sets no header: the pipeline without the limiter's work. */
function noLimiter(real: RateLimits): RateLimits {
  const allow = async () => ({ allowed: true, headers: {} });
  return { ...real, checkAddress: allow, checkCaller: allow };
}

async function startPair(redisUrl: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-limits-'));
  writeFileSync(join(dir, 'gatehouse.json'), JSON.stringify({ rateLimits: RATE_LIMITS }));
  const config = loadConfig({
    env: { GATEHOUSE_CONFIG: join(dir, 'gatehouse.json'), GATEHOUSE_DATA_DIR: dir, GATEHOUSE_LOG_LEVEL: 'warn', ...(redisUrl ? { REDIS_URL: redisUrl } : {}) },
  });
  const deps: Deps = await createDeps(config, { logger: createLogger({ level: 'warn' }) });
  const apps: Array<{ app: FastifyInstance; url: string }> = [];
  for (const rateLimits of [deps.rateLimits, noLimiter(deps.rateLimits)]) {
    const app = await buildApp({ ...deps, rateLimits });
    app.get('/bench', { config: { routeClass: 'default' } }, async () => ({ ok: true }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push({ app, url: `${url}/bench` });
  }
  const { secretKey, project } = await createProjectWithDevKeys(deps, 'bench', 'bench');
  const keyId = (await deps.apiKeys.verify(secretKey)).id;
  return {
    withLimiter: apps[0]!.url, without: apps[1]!.url, headers: { apikey: secretKey }, rateLimits: deps.rateLimits, projectId: project.id, keyId,
    async close() {
      for (const a of apps) await a.app.close();
      await deps.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function run(url: string, headers: Record<string, string>, conns: number): Promise<Result> {
  const r = await autocannon({ url, connections: conns, duration: seconds, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function httpFigures(label: string, redisUrl: string | undefined): Promise<void> {
  const pair = await startPair(redisUrl);
  try {
    // The limiter's own work per request, in process: both checks as the two stages make them.
    const rl = pair.rateLimits;
    const n = label === 'memory' ? 50_000 : 5_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      await rl.checkAddress('127.0.0.1', Date.now());
      await rl.checkCaller({ projectId: pair.projectId, environment: 'dev', routeClass: 'default', tier: 'admin', keyId: pair.keyId, keyIsShared: false, ip: '127.0.0.1', nowMs: Date.now() });
    }
    console.log(`  stages ${label.padEnd(6)} per request (per-IP + per-subject check, sequential): ${(((performance.now() - started) / n) * 1000).toFixed(1)} µs`);

    // Warm both (JIT, key cache, Redis script cache).
    await autocannon({ url: pair.withLimiter, connections, duration: 1, headers: pair.headers });
    await autocannon({ url: pair.without, connections, duration: 1, headers: pair.headers });
    for (const conns of [1, connections]) {
      // Alternating short runs, medians: other load on the machine hits both sides alike.
      const off: Result[] = [];
      const on: Result[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const order = i % 2 ? [on, off] : [off, on];
        for (const side of order) side.push(await run(side === on ? pair.withLimiter : pair.without, pair.headers, conns));
      }
      const rpsOff = median(off.map((r) => r.requests.average));
      const rpsOn = median(on.map((r) => r.requests.average));
      const perReqOff = (conns / rpsOff) * 1000;
      const perReqOn = (conns / rpsOn) * 1000;
      console.log(
        `  HTTP   ${label.padEnd(6)} ${String(conns).padStart(2)} conn: without ${rpsOff.toFixed(0).padStart(6)} req/s | with ${rpsOn.toFixed(0).padStart(6)} req/s, ` +
          `p99 ${median(on.map((r) => r.latency.p99)).toFixed(1)} ms (without ${median(off.map((r) => r.latency.p99)).toFixed(1)}) | ` +
          `overhead ${((perReqOn - perReqOff) * (conns === 1 ? 1 : 1 / conns)).toFixed(3)} ms/request, throughput ${(((rpsOn - rpsOff) / rpsOff) * 100).toFixed(1)}%`,
      );
    }
  } finally {
    await pair.close();
  }
}

let ownRedis: RedisServer | null = null;
let redisUrl = process.env.REDIS_URL;
if (!redisUrl && findRedisBin()) {
  ownRedis = await startRedis();
  redisUrl = ownRedis.url;
}

try {
  const mem = await benchLimiter(new MemoryStore(), 200_000);
  console.log(`  store  memory: ${mem.opsPerSec} decisions/s, p50 ${mem.p50Us} µs, p99 ${mem.p99Us} µs (2 windows each, sequential)`);
  if (redisUrl) {
    const client = createLimiterRedisClient(redisUrl, { lazyConnect: true });
    await client.connect();
    const store = new RedisStore({ client, prefix: `bench:rl:${process.pid}:` });
    await benchLimiter(store, 2_000);
    const r = await benchLimiter(store, 20_000);
    console.log(`  store  redis:  ${r.opsPerSec} decisions/s, p50 ${r.p50Us} µs, p99 ${r.p99Us} µs (one Lua round trip each, sequential)`);
    await client.quit();
  }
  await httpFigures('memory', undefined);
  if (redisUrl) await httpFigures('redis', redisUrl);
  else console.log('  (no Redis: set REDIS_URL or install redis-server for the Redis figures)');
} finally {
  await ownRedis?.stop();
}

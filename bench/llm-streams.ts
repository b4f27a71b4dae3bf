// Long-lived LLM streams (issue 18): BENCH_STREAMS (default 1000) streamed chat completions opened
// all at once, each answered by a bench-local SSE upstream over ~5 s (BENCH_STREAM_S), through
//   bare       a minimal undici proxy (one pool, sets the key, pipes bytes): the baseline
//   gatehouse  the compiled server: API key, user JWT, rate limit, admission, whitelist, usage
// Reported: every chunk delivered (or not), first-byte latency of the burst and of single streams
// (BENCH_QUIET_STREAMS per target, default 50, one at a time after a warm-up; the overhead is
// gatehouse minus bare, same run), each server's peak RSS (VmHWM). Then a flood
// past the configured limits on a second Gatehouse (10 users × 100 streams; 50 per user, 200 per
// origin): the answers must be 429 / 503 with Retry-After, quickly, not a queue.
// Each server runs in its own process. Needs file descriptors: about 4 per stream across the
// processes of this bench; run `ulimit -n 65536` first if the soft limit is lower (it is checked).
// Alone: `npm run build && npx tsx bench/llm-streams.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startBareProxy } from './llm-bare-proxy.js';

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
const upstreamArg = process.argv.find((a) => a.startsWith('--upstream='))?.slice(11) ?? '';
const flood = process.argv.includes('--flood');
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const STREAM_S = Number(process.env.BENCH_STREAM_S ?? 5);
const CHUNKS = 10;
/** Single streams measured per target for the quiet first byte, after a warm-up (JIT, pools). */
const QUIET_STREAMS = Number(process.env.BENCH_QUIET_STREAMS ?? 50);
const QUIET_WARMUP = Math.min(20, Math.ceil(QUIET_STREAMS / 2));
const KEY = 'sk-bench-0123456789';

if (role === 'sse') {
  // An OpenAI-shaped stream: CHUNKS content events over STREAM_S seconds, the usage event, [DONE].
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let sent = 0;
      const chunk = (delta: object, extra: object = {}) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: 'gpt-bench', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
      const tick = () => {
        if (res.destroyed) return;
        if (sent < CHUNKS) {
          res.write(chunk({ content: `word${sent} ` }));
          sent++;
          setTimeout(tick, (STREAM_S * 1000) / CHUNKS);
          return;
        }
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', model: 'gpt-bench', choices: [], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: CHUNKS + 5 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      tick();
    });
  });
  server.maxConnections = 1_000_000;
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  console.log(`BENCH_READY ${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })}`);
} else if (role === 'bare') {
  const url = await startBareProxy({ upstream: upstreamArg, key: KEY, connections: 65_536, bodyTimeoutMs: 120_000 });
  console.log(`BENCH_READY ${JSON.stringify({ url })}`);
} else if (role === 'gatehouse') {
  const dist = '../dist';
  const { loadConfig } = await import(`${dist}/config/index.js`) as typeof import('../src/config/index.js');
  const { createDeps } = await import(`${dist}/deps.js`) as typeof import('../src/deps.js');
  const { buildApp } = await import(`${dist}/app.js`) as typeof import('../src/app.js');
  const { createLogger } = await import(`${dist}/observability/index.js`) as typeof import('../src/observability/index.js');
  const { createProjectWithDevKeys } = await import(`${dist}/operations/create-project.js`) as typeof import('../src/operations/create-project.js');
  const { createTestUser } = await import('../test/harness/users.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-streams-'));
  const configFile = join(dataDir, 'bench-config.json');
  // Every bench request comes from 127.0.0.1: the per-address pre-limit is raised as behind a load
  // balancer. The in-flight limits are raised for the throughput run and set low for the flood.
  const llm = flood
    ? { maxInFlightPerUser: 50, maxInFlightPerProject: 10_000, maxInFlightPerOrigin: 200, originQueueMs: 500 }
    : { maxInFlightPerUser: 65_536, maxInFlightPerProject: 65_536 };
  writeFileSync(configFile, JSON.stringify({ llm, rateLimits: { address: { failMode: 'open', windows: [{ limit: 1_000_000_000, windowMs: 60_000 }] } } }));
  const config = loadConfig({ configFile, env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'warn' } });
  const deps = await createDeps(config, { logger: createLogger({ level: 'warn', destination: process.stderr }) });
  const app = await buildApp(deps);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { publishableKey, secretKey } = await createProjectWithDevKeys(deps, 'bench', 'bench');
  const admin = (path: string, payload: object) => app.inject({ method: 'PUT', url: path, headers: { apikey: secretKey }, payload });
  await admin('/admin/v1/providers/openai', { base_url: `${upstreamArg}/openai`, api_key: KEY });
  const users = [];
  for (let i = 0; i < (flood ? 10 : 1); i++) {
    const user = await createTestUser({ app, publishableKey, secretKey } as never);
    await admin(`/admin/v1/limits/overrides/user:${user.id}`, { llm: [{ limit: 1_000_000_000, windowMs: 60_000 }] });
    users.push({ apikey: publishableKey, authorization: `Bearer ${user.accessToken}` });
  }
  process.on('SIGTERM', async () => {
    await app.close();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
  console.log(`BENCH_READY ${JSON.stringify({ url, users })}`);
} else {
  await orchestrate();
}

type Info = { url: string; users?: Array<Record<string, string>> };
function child(args: string[]): Promise<{ proc: ChildProcess; info: Info }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('BENCH_READY '));
      if (line) resolve({ proc, info: JSON.parse(line.slice(12)) });
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** Peak and current resident memory of a process, MB (Linux /proc). */
function memoryMb(proc: ChildProcess): { peak: number; now: number } {
  const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface StreamResult { status: number; firstByteMs: number; events: number; retryAfter: string | null; code: string | null; totalMs: number }

/** One streamed chat completion: status, time to its first body byte, SSE events received. */
async function stream(pool: Pool, path: string, headers: Record<string, string>): Promise<StreamResult> {
  const started = performance.now();
  const body = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: 'Say hello.' }], stream: true });
  const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  let firstByteMs = NaN;
  let text = '';
  for await (const chunk of res.body) {
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started;
    text += (chunk as Buffer).toString('utf8');
  }
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).length;
  const code = res.statusCode >= 400 ? (/"code":"([a-z_]+)"/.exec(text)?.[1] ?? null) : null;
  const retryAfter = res.headers['retry-after'] === undefined ? null : String(res.headers['retry-after']);
  return { status: res.statusCode, firstByteMs, events, retryAfter, code, totalMs: performance.now() - started };
}

function fdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 0);
}

async function orchestrate(): Promise<void> {
  const needed = STREAMS * 4 + 1000;
  if (fdLimit() < needed) {
    console.log(`file descriptor limit ${fdLimit()} < ${needed}: run \`ulimit -n 65536\` first`);
    process.exitCode = 1;
    return;
  }
  const sse = await child(['--role=sse']);
  const bare = await child(['--role=bare', `--upstream=${sse.info.url}`]);
  const gh = await child(['--role=gatehouse', `--upstream=${sse.info.url}`]);
  const ghFlood = await child(['--role=gatehouse', `--upstream=${sse.info.url}`, '--flood']);
  const expected = CHUNKS + 2; // content, usage, [DONE]
  try {
    console.log(`${STREAMS} streams at once, ${CHUNKS} chunks over ${STREAM_S} s each, Node ${process.version}`);
    const targets = [
      { name: 'bare undici proxy', info: bare.info, proc: bare.proc, path: '/openai/v1/chat/completions', headers: {} },
      { name: 'gatehouse', info: gh.info, proc: gh.proc, path: '/llm/openai/v1/chat/completions', headers: gh.info.users![0]! },
    ];
    // Quiet first byte: one stream at a time (the server's own overhead, no queueing), after a
    // warm-up, the two targets alternating so that a busy spell of the machine hits both alike.
    // Each Gatehouse stream starts about 2 × STREAM_S after the last: caches with a shorter TTL
    // would have expired in between, unless kept warm (shared/ttl-cache.ts).
    const single: Record<string, number[]> = { [targets[0]!.name]: [], [targets[1]!.name]: [] };
    const quiet = targets.map((t) => new Pool(t.info.url, { connections: 1 }));
    for (let i = 0; i < QUIET_WARMUP + QUIET_STREAMS; i++) {
      for (const [n, target] of targets.entries()) {
        const r = await stream(quiet[n]!, target.path, target.headers);
        if (i >= QUIET_WARMUP) single[target.name]!.push(r.firstByteMs);
      }
    }
    await Promise.all(quiet.map((p) => p.close()));
    console.log('\ntarget               ok/all      all chunks  first byte p50 / p99 ms  last byte p50 ms  quiet first byte p50 ms  peak RSS MB');
    for (const target of targets) {
      const pool = new Pool(target.info.url, { connections: STREAMS + 10, pipelining: 1, bodyTimeout: 120_000 });
      const results = await Promise.all(Array.from({ length: STREAMS }, () => stream(pool, target.path, target.headers).catch(() => null)));
      const ok = results.filter((r) => r?.status === 200);
      const whole = ok.filter((r) => r!.events === expected).length;
      const first = ok.map((r) => r!.firstByteMs);
      const mem = memoryMb(target.proc);
      console.log(`${target.name.padEnd(19)}  ${`${ok.length}/${STREAMS}`.padEnd(10)}  ${String(whole).padStart(10)}  ${`${percentile(first, 50).toFixed(1)} / ${percentile(first, 99).toFixed(1)}`.padStart(23)}  ${percentile(ok.map((r) => r!.totalMs), 50).toFixed(0).padStart(16)}  ${percentile(single[target.name]!, 50).toFixed(2).padStart(23)}  ${mem.peak.toFixed(0).padStart(11)}`);
      await pool.close();
    }
    const overhead = percentile(single.gatehouse!, 50) - percentile(single['bare undici proxy']!, 50);
    console.log(`first-byte overhead of gatehouse over the bare proxy (quiet, p50 of ${QUIET_STREAMS} single streams each): ${overhead.toFixed(2)} ms`);

    // The flood: 10 users × 100 streams at once against 50 per user and 200 per origin.
    const pool = new Pool(ghFlood.info.url, { connections: 1100, pipelining: 1, bodyTimeout: 120_000 });
    const started = performance.now();
    const results = await Promise.all(ghFlood.info.users!.flatMap((headers) => Array.from({ length: 100 }, () => stream(pool, '/llm/openai/v1/chat/completions', headers).catch(() => null))));
    const byStatus = new Map<string, StreamResult[]>();
    for (const r of results) {
      const key = r ? `${r.status}${r.code ? ` ${r.code}` : ''}` : 'error';
      byStatus.set(key, [...(byStatus.get(key) ?? []), ...(r ? [r] : [])]);
    }
    console.log(`\nflood: 10 users × 100 streams at once; limits 50 per user, 200 per origin, 500 ms origin wait (${((performance.now() - started) / 1000).toFixed(1)} s in all)`);
    for (const [key, list] of [...byStatus.entries()].sort()) {
      const retry = new Set(list.map((r) => r.retryAfter));
      console.log(`  ${key.padEnd(30)} ${String(list.length).padStart(5)}  answered in p50 ${percentile(list.map((r) => r.totalMs), 50).toFixed(0)} ms, p99 ${percentile(list.map((r) => r.totalMs), 99).toFixed(0)} ms  Retry-After ${[...retry].join(',')}`);
    }
    await pool.close();
  } finally {
    for (const c of [ghFlood, gh, bare, sse]) c.proc.kill('SIGTERM');
  }
}

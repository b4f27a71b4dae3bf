// LLM proxy figures (issue 5 §8): chat completions, non-streamed and streamed,
// against the local fake upstream, three ways in the same run:
//   direct     autocannon → fake upstream
//   bare       autocannon → a minimal undici proxy (sets the key, pipes bytes) → fake
//   fastify    the same minimal proxy as a Fastify route: the framework's own floor
//   fastify-io that route doing the I/O Gatehouse's answer needs (JSON read and parsed both
//              ways, Gatehouse's response headers) without any of its checks
//   gatehouse  autocannon → Gatehouse (API key, user JWT, rate limit, whitelist,
//              ownership, usage, and optionally token quotas) → fake
//   gatehouse, metrics off  the same with GATEHOUSE_METRICS=off: the metrics' cost per request
//              is the CPU µs of the two, as a ratio within each round (printed last)
// Each server runs in its own process so that none shares an event loop with
// the load generator or another server. With 2+ cores the proxies run on the
// last core and the load generator and fake upstream on the others (taskset;
// BENCH_PIN=0 turns that off), as a proxy benchmark should keep the load
// generator off the system under test. Besides req/s, each server's CPU time
// per request is read from /proc, and the capacity ratio (bare CPU per request
// ÷ this one's) says what req/s ratio a load generator with room to spare
// would see: when the direct run is no faster than the bare proxy, the load
// generator's core is the limit and the req/s ratios flatter the slower proxies.
// Targets are interleaved over BENCH_ROUNDS rounds (default 3) and medians
// reported. Gatehouse runs from the compiled build: `npm run bench` builds
// first; alone, `npm run build && npx tsx bench/llm.ts`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { startBareProxy } from './llm-bare-proxy.js';

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
const upstreamArg = process.argv.find((a) => a.startsWith('--upstream='))?.slice(11) ?? '';
const quotasOn = process.argv.includes('--quotas');
const metricsOff = process.argv.includes('--metrics-off');
const freshTokens = process.argv.includes('--fresh-tokens');
/**
 * Distinct valid tokens for the `fresh token` target, each seen once: more than the verified-token
 * cache holds (20,000, dropped oldest first), so cycling through them never finds one verified.
 */
const FRESH_TOKENS = 45_000;

if (role === 'fake') {
  const { startFakeLlm } = await import('../test/harness/fake-llm/index.js');
  const fake = await startFakeLlm();
  // Keep memory flat during long runs: the bench does not read the request log.
  setInterval(() => fake.requests.splice(0), 1000).unref();
  console.log(`BENCH_READY ${JSON.stringify({ url: fake.url })}`);
} else if (role === 'bare') {
  const { FAKE_KEYS } = await import('../test/harness/fake-llm/index.js');
  const url = await startBareProxy({ upstream: upstreamArg, key: FAKE_KEYS.openai, connections: 256 });
  console.log(`BENCH_READY ${JSON.stringify({ url })}`);
} else if (role === 'fastify') {
  // The framework floor: the same minimal proxy as a Fastify route (no hooks, no checks).
  const { default: Fastify } = await import('fastify');
  const { FAKE_KEYS } = await import('../test/harness/fake-llm/index.js');
  const pool = new Pool(upstreamArg, { connections: 256, keepAliveTimeout: 30_000 });
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.post('/*', async (request, reply) => {
    const up = await pool.request({
      path: request.url, method: 'POST',
      headers: { 'content-type': String(request.headers['content-type'] ?? 'application/json'), authorization: `Bearer ${FAKE_KEYS.openai}` },
      body: request.body as NodeJS.ReadableStream as never,
    });
    return reply.code(up.statusCode).header('content-type', String(up.headers['content-type'] ?? '')).send(up.body);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('SIGTERM', () => process.exit(0)); // exits cleanly, so that --cpu-prof writes its profile
  console.log(`BENCH_READY ${JSON.stringify({ url })}`);
} else if (role === 'fastify-io') {
  // The floor plus only the I/O Gatehouse's answer needs, none of its checks: the request's JSON
  // read and parsed, a JSON answer read and parsed before it is sent, and Gatehouse's response
  // headers (the JSON answer's security headers, request id, the default rate-limit family). Gatehouse minus this is the
  // cost of its checks and bookkeeping; this minus the floor, the cost of the answer's shape.
  const { default: Fastify } = await import('fastify');
  const { randomUUID } = await import('node:crypto');
  const { FAKE_KEYS } = await import('../test/harness/fake-llm/index.js');
  const { securityHeaders } = await import('../src/http/security-headers.js');
  const headers = securityHeaders({ tls: false });
  const limitHeaders = {
    'X-RateLimit-Limit': '1000000000', 'X-RateLimit-Remaining': '999999999', 'X-RateLimit-Reset': '1800000000',
  };
  const pool = new Pool(upstreamArg, { connections: 256, keepAliveTimeout: 30_000 });
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/*', async (request, reply) => {
    const bytes = request.body as Buffer;
    JSON.parse(bytes.toString('utf8'));
    const up = await pool.request({
      path: request.url, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(bytes.length), authorization: `Bearer ${FAKE_KEYS.openai}` },
      body: bytes,
    });
    reply.headers(headers.always).header('X-Request-Id', randomUUID()).headers(limitHeaders);
    const type = String(up.headers['content-type'] ?? '');
    reply.code(up.statusCode).header('content-type', type);
    if (type.startsWith('text/event-stream')) return reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no').send(up.body);
    const answer = Buffer.from(await up.body.arrayBuffer());
    JSON.parse(answer.toString('utf8'));
    return reply.send(answer);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('SIGTERM', () => process.exit(0));
  console.log(`BENCH_READY ${JSON.stringify({ url })}`);
} else if (role === 'gatehouse') {
  // The compiled build, as `npm start` runs it (tsx's on-the-fly output adds per-closure helpers
  // that production code does not have); `npm run bench` builds first.
  const dist = '../dist';
  const { loadConfig } = await import(`${dist}/config/index.js`) as typeof import('../src/config/index.js');
  const { createDeps } = await import(`${dist}/deps.js`) as typeof import('../src/deps.js');
  const { buildApp } = await import(`${dist}/app.js`) as typeof import('../src/app.js');
  const { createLogger } = await import(`${dist}/observability/index.js`) as typeof import('../src/observability/index.js');
  const { createProjectWithDevKeys } = await import(`${dist}/operations/create-project.js`) as typeof import('../src/operations/create-project.js');
  const { createTestUser } = await import('../test/harness/users.js');
  const { FAKE_KEYS } = await import('../test/harness/fake-llm/index.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-llm-'));
  // Every bench request comes from 127.0.0.1: the per-address pre-limit (600/min by default) is
  // raised like an operator would behind a load balancer; per-user limits stay on (see below).
  // The in-flight limits (16 per user by default, issue 18) are raised above the bench's 50
  // connections: otherwise part of the allowed target's answers are 429s, and its figures a mix.
  const configFile = join(dataDir, 'bench-config.json');
  writeFileSync(configFile, JSON.stringify({
    rateLimits: { address: { failMode: 'open', windows: [{ limit: 1_000_000_000, windowMs: 60_000 }] } },
    llm: { maxInFlightPerUser: 65_536, maxInFlightPerProject: 65_536 },
  }));
  const config = loadConfig({ configFile, env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_METRICS: metricsOff ? 'off' : 'on' } });
  const deps = await createDeps(config, { logger: createLogger({ level: 'warn', destination: process.stderr }) });
  const app = await buildApp(deps);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { project, publishableKey, secretKey } = await createProjectWithDevKeys(deps, 'bench', 'bench');
  const admin = (method: 'PUT', path: string, payload: object) => app.inject({ method, url: path, headers: { apikey: secretKey }, payload });
  await admin('PUT', '/admin/v1/providers/openai', { base_url: `${upstreamArg}/openai`, api_key: FAKE_KEYS.openai });
  const user = await createTestUser({ app, publishableKey, secretKey } as never);
  // Rate limiting stays on; the user's window is raised so the bench measures its cost, not its refusals.
  await admin('PUT', `/admin/v1/limits/overrides/user:${user.id}`, { llm: [{ limit: 1_000_000_000, windowMs: 60_000 }] });
  const secretKeyId = (await deps.apiKeys.list(project.id, 'dev')).find((k) => k.kind === 'secret')!.id;
  await admin('PUT', `/admin/v1/limits/overrides/key:${secretKeyId}`, { llm: [{ limit: 1_000_000_000, windowMs: 60_000 }] });
  if (quotasOn) await admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 1_000_000_000_000, tokens_per_month: null });
  // Refused requests, for what a refusal costs: a forged user token (401), and a user over its llm
  // limit (429; one request an hour, spent here). Forged tokens carry the real user's header and
  // claims: a truncated signature (refused by its shape), and full-length random ones (64 bytes,
  // the right shape: only the ECDSA check can refuse them), the same one retried or a new one on
  // every request (the orchestrator appends it to `forgedBase`).
  const [head, payload] = user.accessToken.split('.');
  const limited = await createTestUser({ app, publishableKey, secretKey } as never);
  await admin('PUT', `/admin/v1/limits/overrides/user:${limited.id}`, { llm: [{ limit: 1, windowMs: 3_600_000 }] });
  const refused = {
    unauthorized: { apikey: publishableKey, authorization: `Bearer ${head}.${payload}.AAAA` },
    retried: { apikey: publishableKey, authorization: `Bearer ${head}.${payload}.${randomBytes(64).toString('base64url')}` },
    forgedBase: { apikey: publishableKey, authorization: `Bearer ${head}.${payload}.` },
    limited: { apikey: publishableKey, authorization: `Bearer ${limited.accessToken}` },
  };
  await app.inject({ method: 'POST', url: '/llm/openai/v1/chat/completions', headers: { ...refused.limited, 'content-type': 'application/json' }, payload: '{"model":"gpt-fake","messages":[]}' });
  // The same user's access tokens, freshly signed (a client's first request after a refresh): an
  // allowed request that pays the signature check, as a forged one does. Written to a file: the
  // orchestrator hands one to each request.
  let freshTokensFile: string | undefined;
  if (freshTokens) {
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, any>;
    const minted: string[] = [];
    for (let i = 0; i < FRESH_TOKENS; i++) {
      minted.push((await deps.identity.tokens.issue(project.id, 'dev', {
        sub: claims.sub, email: claims.email || null, role: claims.role, sessionId: claims.session_id, appMetadata: claims.app_metadata,
        userMetadata: claims.user_metadata, authTime: claims.amr[0].timestamp, method: claims.amr[0].method,
      })).token);
    }
    freshTokensFile = join(dataDir, 'fresh-tokens.txt');
    writeFileSync(freshTokensFile, minted.join('\n'));
  }
  process.on('SIGTERM', async () => {
    await app.close();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
  console.log(`BENCH_READY ${JSON.stringify({ url, secretKey, refused, freshTokensFile, headers: { apikey: publishableKey, authorization: `Bearer ${user.accessToken}` } })}`);
} else {
  await orchestrate();
}

/**
 * CPU time (user + system) a server process has used so far, from /proc (Linux);
 * per request it is the proxy's own cost, which a busy or noisy machine
 * distorts far less than requests per second.
 */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function pinned(): boolean {
  return process.env.BENCH_PIN !== '0' && cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0;
}

function cpuMs(proc: ChildProcess | null): number | null {
  if (!proc?.pid) return null;
  try {
    const fields = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerS = 100; // USER_HZ, 100 on every Linux we run
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerS;
  } catch {
    return null;
  }
}

type Refused = { unauthorized: Record<string, string>; retried: Record<string, string>; forgedBase: Record<string, string>; limited: Record<string, string> };
function child(args: string[]): Promise<{ proc: ChildProcess; info: { url: string; headers?: Record<string, string>; secretKey?: string; refused?: Refused; freshTokensFile?: string } }> {
  const profile = process.env.BENCH_PROFILE?.split(',').some((r) => args[0] === `--role=${r}`) ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gh-prof'] : [];
  const pin = pinned() ? ['taskset', '-c', args[0] === '--role=fake' ? `0-${cpus().length - 2}` : String(cpus().length - 1)] : [];
  const command = [...pin, process.execPath, ...profile, '--import', 'tsx', fileURLToPath(import.meta.url), ...args];
  const proc = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
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

async function orchestrate(): Promise<void> {
  if (pinned()) spawnSync('taskset', ['-pc', `0-${cpus().length - 2}`, String(process.pid)]);
  const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const fake = await child(['--role=fake']);
  const bare = await child(['--role=bare', `--upstream=${fake.info.url}`]);
  const fastify = await child(['--role=fastify', `--upstream=${fake.info.url}`]);
  const fastifyIo = await child(['--role=fastify-io', `--upstream=${fake.info.url}`]);
  const gh = await child(['--role=gatehouse', `--upstream=${fake.info.url}`, '--fresh-tokens']);
  const fresh = gh.info.freshTokensFile ? readFileSync(gh.info.freshTokensFile, 'utf8').split('\n') : [];
  let nextFresh = 0;
  const ghq = await child(['--role=gatehouse', `--upstream=${fake.info.url}`, '--quotas']);
  const ghOff = await child(['--role=gatehouse', `--upstream=${fake.info.url}`, '--metrics-off']);
  const targets = [
    { name: 'direct (fake upstream)', url: `${fake.info.url}/openai/v1/chat/completions`, headers: { authorization: 'Bearer sk-fake-openai-0123456789' }, proc: null },
    { name: 'bare undici proxy', url: `${bare.info.url}/openai/v1/chat/completions`, headers: {}, proc: bare.proc },
    { name: 'bare Fastify proxy', url: `${fastify.info.url}/openai/v1/chat/completions`, headers: {}, proc: fastify.proc },
    { name: 'Fastify, Gatehouse I/O', url: `${fastifyIo.info.url}/openai/v1/chat/completions`, headers: {}, proc: fastifyIo.proc },
    { name: 'gatehouse', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.headers ?? {}, proc: gh.proc },
    // Same proxy path without the user JWT (server-side secret key): separates the proxy's cost from token verification.
    // Allowed, with a token never seen before on each request: the signature check on an allowed request.
    { name: 'gatehouse, fresh token', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.headers ?? {}, fresh: true, proc: gh.proc },
    { name: 'gatehouse, secret key', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: { apikey: gh.info.secretKey ?? '' }, proc: gh.proc },
    { name: 'gatehouse + quotas', url: `${ghq.info.url}/llm/openai/v1/chat/completions`, headers: ghq.info.headers ?? {}, proc: ghq.proc },
    // Same as `gatehouse`, recording no metrics: the difference is what the metrics cost.
    { name: 'gatehouse, metrics off', url: `${ghOff.info.url}/llm/openai/v1/chat/completions`, headers: ghOff.info.headers ?? {}, proc: ghOff.proc },
    // Refusals (every answer non-2xx, so counted as errors): the cost of saying no, body never read.
    { name: 'gatehouse, refused 401', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.refused?.unauthorized ?? {}, proc: gh.proc },
    // A full-length forged signature, a new one per request: what the ECDSA check costs, no cache can help.
    { name: 'gatehouse, 401 forged', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.refused?.forgedBase ?? {}, forge: true, proc: gh.proc },
    // One full-length forged token sent again and again: a client retrying it (the refusal is remembered).
    { name: 'gatehouse, 401 retried', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.refused?.retried ?? {}, proc: gh.proc },
    { name: 'gatehouse, refused 429', url: `${gh.info.url}/llm/openai/v1/chat/completions`, headers: gh.info.refused?.limited ?? {}, proc: gh.proc },
  ];
  const only = process.env.BENCH_ONLY;
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => t.name.startsWith('bare') || t.name.includes(only)));
  const exact = process.env.BENCH_TARGETS?.split('|');
  if (exact) targets.splice(0, targets.length, ...targets.filter((t) => t.name === 'bare undici proxy' || exact.includes(t.name)));
  console.log(`chat completions, ${connections} connections, ${rounds} rounds of ${durationS} s per target, Node ${process.version}, ${cpus().length} cores${pinned() ? `, proxies pinned to core ${cpus().length - 1}` : ""}`);
  try {
    // BENCH_STREAM=0 or 1 runs one mode only (profiling).
    for (const stream of [false, true].filter((m) => process.env.BENCH_STREAM === undefined || String(Number(m)) === process.env.BENCH_STREAM)) {
      const body = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'Say hello.' }], stream });
      type Run = { rps: number; p50: number; p99: number; errors: number; cpuUs: number | null };
      const runs = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
      // Rounds interleave the targets, so that a slow spell of a shared machine hits them all
      // alike; each figure below is the median over the rounds, each ratio the median of the
      // ratios taken within one round.
      for (let round = 0; round < rounds; round++) {
        // Every other round runs the targets in reverse: no target always follows the same one.
        for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
          const headers: Record<string, string> = { 'content-type': 'application/json', ...target.headers };
          const run = (seconds: number) => autocannon({
            url: target.url, method: 'POST', connections, duration: seconds, body,
            // BENCH_RATE fixes the offered load (req/s): CPU per request then varies less than at saturation.
            ...(process.env.BENCH_RATE ? { overallRate: Number(process.env.BENCH_RATE) } : {}),
            headers,
            // A new random signature per request, made here in the load generator, not in the server measured.
            ...('forge' in target ? {
              requests: [{
                setupRequest: (request: autocannon.Request) => ({
                  ...request, headers: { ...headers, authorization: `${headers.authorization}${randomBytes(64).toString('base64url')}` },
                }),
              }],
            } : {}),
            ...('fresh' in target ? {
              requests: [{
                setupRequest: (request: autocannon.Request) => ({
                  ...request, headers: { ...headers, authorization: `Bearer ${fresh[nextFresh++ % fresh.length]}` },
                }),
              }],
            } : {}),
          });
          const warm = round === 0 ? await run(2) : null; // warm-up: JIT, pools, caches
          const cpuBefore = cpuMs(target.proc);
          const r = await run(durationS);
          // Profiles cover the whole process: their per-request figures need every request it served.
          if (process.env.BENCH_PROFILE) console.log(`${target.name}: ${r.requests.total + (warm?.requests.total ?? 0)} requests`);
          const cpu = cpuBefore === null ? null : cpuMs(target.proc)! - cpuBefore;
          if (process.env.BENCH_VERBOSE) console.log(`  round ${round + 1} ${target.name}: ${r.requests.average} req/s, ${cpu === null ? '-' : ((cpu * 1000) / r.requests.total).toFixed(0)} µs/req`);
          runs.get(target.name)!.push({
            rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx,
            cpuUs: cpu === null || r.requests.total === 0 ? null : (cpu * 1000) / r.requests.total,
          });
        }
      }
      const bare = runs.get('bare undici proxy')!;
      console.log(`\n${stream ? 'streamed (SSE, usage in the final chunk)' : 'non-streamed'}, median of ${rounds} rounds`);
      console.log('target                    req/s     p50 ms  p99 ms  errors  ratio to bare  proxy CPU µs/req (× bare)  capacity ratio');
      for (const target of targets) {
        const mine = runs.get(target.name)!;
        const ratio = median(mine.map((r, i) => r.rps / bare[i]!.rps));
        const cpuUs = mine[0]!.cpuUs === null ? null : median(mine.map((r) => r.cpuUs!));
        const cpuRatio = cpuUs === null ? null : median(mine.map((r, i) => r.cpuUs! / bare[i]!.cpuUs!));
        const cpu = cpuUs === null ? '' : `${cpuUs.toFixed(0).padStart(6)} (×${cpuRatio!.toFixed(2)})  ${(1 / cpuRatio!).toFixed(2).padStart(14)}`;
        const errors = mine.reduce((sum, r) => sum + r.errors, 0);
        console.log(`${target.name.padEnd(24)}  ${median(mine.map((r) => r.rps)).toFixed(0).padStart(7)}  ${String(median(mine.map((r) => r.p50))).padStart(6)}  ${String(median(mine.map((r) => r.p99))).padStart(6)}  ${String(errors).padStart(6)}  ${ratio.toFixed(2).padStart(13)}  ${cpu}`);
      }
      printMetricsCost(runs.get('gatehouse'), runs.get('gatehouse, metrics off'));
      printRefusalCost(runs);
    }
  } finally {
    for (const c of [ghOff, ghq, gh, fastifyIo, fastify, bare, fake]) c.proc.kill('SIGTERM');
  }
}

/**
 * What recording metrics costs on the proxy path: Gatehouse's CPU per request with metrics on and
 * off, both measured in each round (interleaved), the ratio the median of the per-round ratios.
 */
function printMetricsCost(on: Array<{ cpuUs: number | null }> | undefined, off: Array<{ cpuUs: number | null }> | undefined): void {
  if (!on || !off || on.length === 0 || on.some((r) => r.cpuUs === null) || off.some((r) => r.cpuUs === null)) return;
  const onUs = median(on.map((r) => r.cpuUs!));
  const offUs = median(off.map((r) => r.cpuUs!));
  const ratio = median(on.map((r, i) => r.cpuUs! / off[i]!.cpuUs!));
  console.log(`metrics cost: ${onUs.toFixed(0)} µs/req on, ${offUs.toFixed(0)} µs/req off: ×${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}% CPU per request)`);
}

/**
 * What saying no costs next to saying yes: each refusal's CPU per request over the allowed
 * request's (`gatehouse`, a user token verified once and cached), the median of the per-round
 * ratios. A refusal must cost less than an allowed request (issue 18). A forged signature is also
 * set beside an allowed request whose token is new (`fresh token`): both pay the one signature check.
 */
function printRefusalCost(runs: Map<string, Array<{ cpuUs: number | null }>>): void {
  const allowed = runs.get('gatehouse');
  if (!allowed || allowed.some((r) => r.cpuUs === null)) return;
  for (const [name, mine] of runs) {
    if (!/refused|401/.test(name) || mine.some((r) => r.cpuUs === null)) continue;
    const ratio = median(mine.map((r, i) => r.cpuUs! / allowed[i]!.cpuUs!));
    const fresh = name.includes('forged') ? runs.get('gatehouse, fresh token') : undefined;
    const againstFresh = fresh && fresh.every((r) => r.cpuUs !== null)
      ? `, ×${median(mine.map((r, i) => r.cpuUs! / fresh[i]!.cpuUs!)).toFixed(2)} an allowed one with a new token's (${median(fresh.map((r) => r.cpuUs!)).toFixed(0)} µs)` : '';
    console.log(`refusal cost: ${name.replace('gatehouse, ', '')}: ${median(mine.map((r) => r.cpuUs!)).toFixed(0)} µs/req, ×${ratio.toFixed(2)} an allowed request's${againstFresh}`);
  }
}

// Realtime socket figures (issue 16), against a real Gatehouse child process:
//   1. idle memory per WebSocket: N clients (plain `ws`, vsn 2.0.0) connected and joined to a
//      channel; the server's RSS above its own idle RSS measured just before, divided by N.
//      Goal: < 20 KB per connection.
//   2. fan-out of a row change to M subscribers of postgres_changes, half of whom may read the row
//      (secret-key sockets, admin) and half may not (guests): write-to-delivery latency p50/p99
//      over the allowed half, beside a bare `ws` server relaying the same number of frames to the
//      same number of sockets in the same run (its own process). Goal: p99 < 50 ms.
//   3. the server's CPU time (user + system, /proc/<pid>/stat) over the fan-out rounds, per event
//      delivered: the figure that does not depend on how busy the shared machine is.
//   npx tsx bench/realtime-socket.ts        (BENCH_IDLE_N=2000, BENCH_FANOUT_N=1000, BENCH_ROUNDS=20)
//   BENCH_SERVER_NODE_OPTIONS: NODE_OPTIONS for the server, e.g. '--require <an inspector-based profiler>'
//   (Node refuses --cpu-prof in NODE_OPTIONS). GATEHOUSE_REALTIME_TOKEN_RECHECK_MS is passed on (a
//   short recheck shows what the periodic credentials recheck costs the fan-out).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { spawnGatehouse } from '../test/harness/gatehouse-process.js';

const idleN = Number(process.env.BENCH_IDLE_N ?? 2000);
const fanoutN = Number(process.env.BENCH_FANOUT_N ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);

/** The process's CPU time so far (utime + stime), in ms. */
function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): state is the 3rd, utime the 14th, stime the 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux Node supports. */
const CLOCK_TICKS = 100;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A socket joined to `topic`; `onFrame` sees every frame after the join reply. */
async function joined(url: string, topic: string, onFrame?: (frame: unknown[]) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as unknown[];
      if (frame[1] === 'j' && frame[3] === 'phx_reply') {
        const status = (frame[4] as { status: string }).status;
        if (status === 'ok') resolve(); else reject(new Error(`join refused: ${JSON.stringify(frame[4])}`));
        return;
      }
      onFrame?.(frame);
    });
    ws.send(JSON.stringify(['j', 'j', topic, 'phx_join', { config: { private: false, postgres_changes: topic.includes('pg') ? [{ event: 'INSERT', schema: 'public', table: 'ticks' }] : [] } }]));
  });
  return ws;
}

async function connectMany(n: number, make: (i: number) => Promise<WebSocket>): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  // In batches: 2,000 handshakes at once would measure the accept queue, not the steady state.
  for (let i = 0; i < n; i += 100) out.push(...await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => make(i + j))));
  return out;
}

// The baseline: a bare `ws` server (own process) that relays each frame it gets to every other socket.
const BARE_RELAY = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false }, () => console.log('port ' + wss.address().port));
wss.on('connection', (ws) => ws.on('message', (data) => { for (const c of wss.clients) if (c !== ws) c.send(data); }));
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-rt-'));
  const windows = [{ limit: 1_000_000, windowMs: 60_000 }];
  const tiers = { guest: windows, user: windows, admin: windows };
  const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'storage', 'realtime', 'default'].map((c) => [c, { failMode: 'open', tiers }]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ rateLimits: { classes, overrides: {}, address: { failMode: 'open', windows } } }));
  const gh = await spawnGatehouse({
    dataDir: join(dir, 'data'),
    env: {
      GATEHOUSE_CONFIG: join(dir, 'config.json'), GATEHOUSE_REALTIME_CONNECTIONS_PER_ADDRESS: String(idleN + fanoutN + 100),
      ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
      ...(process.env.GATEHOUSE_REALTIME_TOKEN_RECHECK_MS ? { GATEHOUSE_REALTIME_TOKEN_RECHECK_MS: process.env.GATEHOUSE_REALTIME_TOKEN_RECHECK_MS } : {}),
    },
  });
  const sockets: WebSocket[] = [];
  const bare = spawn(process.execPath, ['-e', BARE_RELAY], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  try {
    const publishable = /publishable \(client side\): (\S+)/.exec(gh.output())![1]!;
    const secret = gh.secretKey!;
    const admin = (method: string, path: string, body: unknown) => fetch(`${gh.url}${path}`, { method, headers: { apikey: secret, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!(await admin('PUT', '/admin/v1/realtime', { public_channels: true, rules: [] })).ok) throw new Error('could not open public channels');
    const schema = { tables: { ticks: { columns: { n: { type: 'integer' }, public: { type: 'boolean', default: false } }, rules: { select: ['admin', 'public == true'], insert: ['admin'], update: ['admin'], delete: ['admin'] } } } };
    if (!(await admin('PUT', '/admin/v1/schema', { schema })).ok) throw new Error('could not apply the schema');
    const wsUrl = (key: string) => `${gh.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${key}&vsn=2.0.0`;

    // 1. Idle memory per connection.
    await connectMany(20, () => joined(wsUrl(publishable), 'realtime:warmup')).then((w) => w.forEach((s) => s.close()));
    await sleep(1_000);
    const idleBefore = rssKiB(gh.pid);
    sockets.push(...await connectMany(idleN, () => joined(wsUrl(publishable), 'realtime:idle')));
    await sleep(2_000);
    const idleAfter = rssKiB(gh.pid);
    const perConnection = ((idleAfter - idleBefore) * 1024) / idleN;
    console.log(`idle sockets: ${idleN} joined; server RSS ${Math.round(idleBefore / 1024)} MiB → ${Math.round(idleAfter / 1024)} MiB; ${(perConnection / 1024).toFixed(1)} KiB per connection (goal < 20 KB)`);
    for (const s of sockets.splice(0)) s.close();
    await sleep(1_000);

    // 2. Fan-out latency of a row change, half the subscribers allowed.
    const latencies: number[] = [];
    let sentAt = 0;
    let deniedDeliveries = 0;
    const allowed = fanoutN / 2;
    sockets.push(...await connectMany(fanoutN, (i) => joined(wsUrl(i % 2 === 0 ? secret : publishable), 'realtime:pg', (frame) => {
      if (frame[3] !== 'postgres_changes') return;
      if (i % 2 === 0) latencies.push(performance.now() - sentAt);
      else deniedDeliveries++;
    })));
    const cpuBefore = cpuMs(gh.pid);
    for (let r = 0; r < rounds; r++) {
      const before = latencies.length;
      sentAt = performance.now();
      const res = await admin('POST', '/rest/v1/ticks', { n: r, public: false });
      if (res.status !== 201) throw new Error(`insert failed: ${res.status}`);
      const deadline = Date.now() + 5_000;
      while (latencies.length < before + allowed && Date.now() < deadline) await sleep(1);
    }
    const cpuPerEvent = (cpuMs(gh.pid) - cpuBefore) / Math.max(1, latencies.length);
    latencies.sort((a, b) => a - b);
    const gh50 = percentile(latencies, 50);
    const gh99 = percentile(latencies, 99);
    for (const s of sockets.splice(0)) s.close();

    // Baseline: the same fan-out size through a bare relay (no auth, no rules, no database).
    const port = await new Promise<string>((resolve) => bare.stdout!.on('data', (d: Buffer) => { const m = /port (\d+)/.exec(String(d)); if (m) resolve(m[1]!); }));
    const bareLatencies: number[] = [];
    let bareSentAt = 0;
    const bareClients = await connectMany(allowed, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      await new Promise<void>((resolve) => ws.once('open', () => resolve()));
      ws.on('message', () => bareLatencies.push(performance.now() - bareSentAt));
      return ws;
    });
    const publisher = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    await new Promise<void>((resolve) => publisher.once('open', () => resolve()));
    for (let r = 0; r < rounds; r++) {
      const before = bareLatencies.length;
      bareSentAt = performance.now();
      publisher.send(JSON.stringify([null, null, 'realtime:pg', 'postgres_changes', { ids: [1], data: { n: r } }]));
      while (bareLatencies.length < before + allowed) await sleep(1);
    }
    bareLatencies.sort((a, b) => a - b);
    const bare50 = percentile(bareLatencies, 50);
    const bare99 = percentile(bareLatencies, 99);
    for (const c of [...bareClients, publisher]) c.close();

    console.log(`fan-out: ${fanoutN} subscribers (${allowed} allowed), ${rounds} rows; delivered ${latencies.length}/${allowed * rounds} to the allowed, ${deniedDeliveries} to the others (must be 0)`);
    console.log(`  gatehouse (HTTP write → commit → feed → rules → socket): p50 ${gh50.toFixed(1)} ms, p99 ${gh99.toFixed(1)} ms (goal p99 < 50 ms)`);
    console.log(`  gatehouse server CPU per delivered event: ${(cpuPerEvent * 1000).toFixed(1)} µs (the write, the rules for all ${fanoutN}, the frames)`);
    console.log(`  bare ws relay (same fan-out, baseline):                  p50 ${bare50.toFixed(1)} ms, p99 ${bare99.toFixed(1)} ms`);
    console.log(`  ratio gatehouse/bare: p50 ${(gh50 / bare50).toFixed(1)}x, p99 ${(gh99 / bare99).toFixed(1)}x`);
  } finally {
    for (const s of sockets) s.terminate();
    bare.kill('SIGTERM');
    gh.kill('SIGTERM');
    await gh.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// Storage figures (issue #15): upload and download throughput of 1 MiB and 100 MiB objects through
// Gatehouse (a real child process, local disk backend, secret key) beside, in the same run, a bare
// Node HTTP server doing the same durable disk work (the goal's baseline) and an in-process stream
// copy (for scale), and the server's peak RSS above idle during a 1 GiB upload. Ratios, not absolute
// numbers, are what compare across machines. Goals: ratio >= 0.8 against the bare durable HTTP
// server, peak < 100 MB above idle.
// Gatehouse runs as `npm start` runs it: the built server (dist/, rebuilt first when a source
// changed), not the sources through tsx, which cost the server ~2 ms more CPU per 1 MiB upload.
//   npx tsx bench/storage.ts        (BENCH_SMALL_COUNT=200, BENCH_LARGE_COUNT=3, BENCH_HUGE_MIB=1024)
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { spawnGatehouse } from '../test/harness/gatehouse-process.js';

const MiB = 1024 * 1024;
const smallCount = Number(process.env.BENCH_SMALL_COUNT ?? 200);
const largeCount = Number(process.env.BENCH_LARGE_COUNT ?? 3);
const hugeMiB = Number(process.env.BENCH_HUGE_MIB ?? 1024);
const CHUNK = randomBytes(MiB);

/** `bytes` of data as a stream of 64 KiB views of one random MiB: no allocation per chunk, on either side. */
function source(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (sent >= bytes) { this.push(null); return; }
      const n = Math.min(64 * 1024, bytes - sent);
      const offset = sent % MiB;
      this.push(CHUNK.subarray(offset, Math.min(MiB, offset + n)));
      sent += Math.min(n, MiB - offset);
    },
  });
}

// The fair baseline, and the one the goal (ratio >= 0.8) is measured against: a bare Node HTTP
// server (its own process, like Gatehouse) that does the same durable write as Gatehouse's local
// backend (stream a PUT to a fresh temp file, fsync it, rename it into place, fsync the folder, so
// a power cut leaves the whole file or none) and streams a GET from disk. Gatehouse's ratio to it
// is the cost of Gatehouse itself (auth, rules, rows, hashing, sniffing), not of HTTP or the disk.
const BARE_SERVER = `
const { createServer } = require('node:http');
const { createReadStream, createWriteStream, fsync, open, close, rename, statSync } = require('node:fs');
const { pipeline } = require('node:stream');
const dir = process.argv[1];
const fail = (res) => { res.statusCode = 500; res.end(); };
const server = createServer((req, res) => {
  const file = dir + '/' + req.url.slice(1).replace(/[^a-z0-9]/gi, '_');
  if (req.method === 'PUT') {
    pipeline(req, createWriteStream(file + '.part', { flags: 'wx', flush: true }), (err) => {
      if (err) return fail(res);
      rename(file + '.part', file, (err) => {
        if (err) return fail(res);
        open(dir, 'r', (err, fd) => {
          if (err) return fail(res);
          fsync(fd, (err) => { close(fd, () => {}); if (err) return fail(res); res.end('{}'); });
        });
      });
    });
  } else {
    res.setHeader('content-length', statSync(file).size);
    pipeline(createReadStream(file), res, () => {});
  }
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

async function startBareServer(dir: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.on('data', (d: Buffer) => { const m = /port (\d+)/.exec(String(d)); if (m) resolve(m[1]!); }));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

const sink = () => new Writable({ write(_chunk, _enc, cb) { cb(); } });

function send(url: string, method: string, headers: Record<string, string>, body?: Readable): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body.pipe(req); else req.end();
  });
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

const mbps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * `count` rounds of one call of each kind, in an order that rotates each round, after `warm` rounds
 * that are not timed (first writes into fresh shard folders, JIT); each kind's median ms per call.
 * Medians, not totals: on a shared machine one call in a hundred can wait tens of ms for the disk
 * or the CPU, and a total (a mean) carries that wait into whichever kind it fell on.
 */
async function rounds<K extends string>(count: number, warm: number, kinds: Record<K, (i: number) => Promise<unknown>>): Promise<Record<K, number>> {
  const names = Object.keys(kinds) as K[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let i = -warm; i < count; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + warm + j) % names.length]!;
      const ms = await timed(async () => { await kinds[name](i + warm); });
      if (i >= 0) times[name].push(ms);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<K, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-storage-'));
  const bareDir = mkdtempSync(join(tmpdir(), 'gh-bench-bare-'));
  const configFile = join(dataDir, 'limits.json');
  const windows = [{ limit: 100_000_000, windowMs: 60_000 }];
  const tiers = { guest: windows, user: windows, admin: windows };
  const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'storage', 'default'].map((c) => [c, { failMode: 'open', tiers }]));
  writeFileSync(configFile, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows } } }));
  const built = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build-if-changed.mjs', import.meta.url))], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('the build failed');
  const bareServer = await startBareServer(bareDir);
  const gh = await spawnGatehouse({
    dataDir,
    fromDist: true,
    // BENCH_NODE_FLAGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/p` for where the server's time goes.
    nodeFlags: process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean),
    env: {
      GATEHOUSE_CONFIG: configFile, GATEHOUSE_REQUEST_TIMEOUT_MS: '0',
      GATEHOUSE_STORAGE_MAX_OBJECT_BYTES: String((hugeMiB + 1) * MiB),
    },
  });
  try {
    const key = gh.secretKey;
    if (!key) throw new Error('no secret key printed');
    const headers = { apikey: key };
    const created = await send(`${gh.url}/storage/v1/bucket`, 'POST', { ...headers, 'content-type': 'application/json' }, Readable.from([JSON.stringify({ id: 'bench' })]));
    if (created.status !== 200) throw new Error(`bucket: ${created.status}`);

    // A fresh instance makes its 1,024 shard folders in the background after its first write
    // (storage/backends/local.ts); a server that has stored anything for a few seconds has them.
    // Measured once they are there: the steady state, not an instance's first seconds.
    const first = await send(`${gh.url}/storage/v1/object/bench/first.bin`, 'POST', { ...headers, 'content-type': 'application/octet-stream', 'content-length': '1' }, Readable.from([Buffer.from('x')]));
    if (first.status !== 200) throw new Error(`first upload: ${first.status}`);
    const shards = join(dataDir, 'storage', 'objects');
    for (let waited = 0; !existsSync(shards) || readdirSync(shards).length < 1024; waited += 100) {
      if (waited > 60_000) throw new Error('the shard folders were not made within a minute');
      await new Promise((r) => setTimeout(r, 100));
    }

    // One request of each kind per round, their order rotating, so that noise from other work on
    // the machine falls on all three alike instead of on whichever ran during it.
    const rows: string[] = [
      'ratio = Gatehouse throughput / baseline throughput, each from its median time per call. GOAL (>= 0.8): vs the bare durable HTTP server.',
      'The in-process copy (no HTTP, no fsync) is shown for scale only: it skips the socket and the disk flush.',
    ];
    for (const [label, size, count, warm] of [['1 MiB', MiB, smallCount, 10], ['100 MiB', 100 * MiB, largeCount, 0]] as const) {
      const ghUrl = (i: number) => `${gh.url}/storage/v1/object/bench/${label.replace(' ', '')}/${i}.bin`;
      const up = {
        copy: (i: number) => pipeline(source(size), createWriteStream(join(bareDir, `f${i}`))),
        bare: async (i: number) => {
          const r = await send(`${bareServer.url}/h${i}`, 'PUT', { 'content-length': String(size) }, source(size));
          if (r.status !== 200) throw new Error(`bare upload: ${r.status}`);
        },
        gatehouse: async (i: number) => {
          const r = await send(ghUrl(i), 'POST', { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-upsert': 'true' }, source(size));
          if (r.status !== 200) throw new Error(`upload ${label}: ${r.status}`);
        },
      };
      const down = {
        copy: (i: number) => pipeline(createReadStream(join(bareDir, `f${i}`)), sink()),
        bare: async (i: number) => {
          const r = await send(`${bareServer.url}/h${i}`, 'GET', {});
          if (r.status !== 200 || r.bytes !== size) throw new Error(`bare download: ${r.status} ${r.bytes}`);
        },
        gatehouse: async (i: number) => {
          const r = await send(ghUrl(i), 'GET', headers);
          if (r.status !== 200 || r.bytes !== size) throw new Error(`download ${label}: ${r.status} ${r.bytes}`);
        },
      };
      const row = (what: string, ms: Record<'copy' | 'bare' | 'gatehouse', number>) =>
        `${label} x${count}  ${what}  gatehouse ${mbps(size, ms.gatehouse).toFixed(0)} MiB/s | bare durable HTTP server ${mbps(size, ms.bare).toFixed(0)} MiB/s, GOAL ratio ${(ms.bare / ms.gatehouse).toFixed(2)} | `
        + `in-process copy ${mbps(size, ms.copy).toFixed(0)} MiB/s, ratio ${(ms.copy / ms.gatehouse).toFixed(2)}`;
      rows.push(row('upload  ', await rounds(count, warm, up)), row('download', await rounds(count, warm, down)));
    }

    // Peak RSS of the server during one huge upload, sampled every 20 ms.
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssOf(gh.pid);
    let peak = idle;
    const sampler = setInterval(() => { peak = Math.max(peak, rssOf(gh.pid)); }, 20);
    const hugeMs = await timed(async () => {
      const r = await send(`${gh.url}/storage/v1/object/bench/huge.bin`, 'POST', { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(hugeMiB * MiB) }, source(hugeMiB * MiB));
      if (r.status !== 200) throw new Error(`huge upload: ${r.status}`);
    });
    clearInterval(sampler);
    rows.push(`${hugeMiB} MiB upload  ${mbps(hugeMiB * MiB, hugeMs).toFixed(0)} MiB/s  server RSS idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, +${((peak - idle) / MiB).toFixed(0)} MiB`);
    console.log(rows.join('\n'));
  } finally {
    gh.kill('SIGTERM');
    bareServer.stop();
    await gh.exited;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(bareDir, { recursive: true, force: true });
  }
}

await main();

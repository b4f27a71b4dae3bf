// Storage figures (issue #15): upload and download throughput of 1 MiB and 100 MiB objects through
// Gatehouse (a real child process, local disk backend, secret key) beside a bare Node stream copy to
// disk in the same run, and the server's peak RSS above idle during a 1 GiB upload. Ratios, not
// absolute numbers, are what compare across machines. Goals: ratio >= 0.8, peak < 100 MB above idle.
//   npx tsx bench/storage.ts        (BENCH_SMALL_COUNT=50, BENCH_LARGE_COUNT=3, BENCH_HUGE_MIB=1024)
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawnGatehouse } from '../test/harness/gatehouse-process.js';

const MiB = 1024 * 1024;
const smallCount = Number(process.env.BENCH_SMALL_COUNT ?? 50);
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

// The same work without Gatehouse: a bare Node HTTP server (its own process, like Gatehouse) that
// streams a PUT to a temp file, fsyncs and renames it, and streams a GET from disk. Gatehouse's
// ratio to it is the cost of Gatehouse itself (auth, rules, rows, hashing), not of HTTP or the disk.
const BARE_SERVER = `
const { createServer } = require('node:http');
const { createReadStream, createWriteStream, renameSync, statSync } = require('node:fs');
const { pipeline } = require('node:stream');
const dir = process.argv[1];
const server = createServer((req, res) => {
  const file = dir + '/' + req.url.slice(1).replace(/[^a-z0-9]/gi, '_');
  if (req.method === 'PUT') {
    pipeline(req, createWriteStream(file + '.part', { flush: true }), (err) => {
      if (err) { res.statusCode = 500; return res.end(); }
      renameSync(file + '.part', file); res.end('{}');
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

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-storage-'));
  const bareDir = mkdtempSync(join(tmpdir(), 'gh-bench-bare-'));
  const configFile = join(dataDir, 'limits.json');
  const windows = [{ limit: 100_000_000, windowMs: 60_000 }];
  const tiers = { guest: windows, user: windows, admin: windows };
  const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'storage', 'default'].map((c) => [c, { failMode: 'open', tiers }]));
  writeFileSync(configFile, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows } } }));
  const bareServer = await startBareServer(bareDir);
  const gh = await spawnGatehouse({
    dataDir,
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

    const rows: string[] = [];
    for (const [label, size, count] of [['1 MiB', MiB, smallCount], ['100 MiB', 100 * MiB, largeCount]] as const) {
      const bytes = size * count;
      const copyUp = await timed(async () => {
        for (let i = 0; i < count; i++) await pipeline(source(size), createWriteStream(join(bareDir, `f${i}`)));
      });
      const bareUp = await timed(async () => {
        for (let i = 0; i < count; i++) {
          const r = await send(`${bareServer.url}/h${i}`, 'PUT', { 'content-length': String(size) }, source(size));
          if (r.status !== 200) throw new Error(`bare upload: ${r.status}`);
        }
      });
      const ghUp = await timed(async () => {
        for (let i = 0; i < count; i++) {
          const r = await send(`${gh.url}/storage/v1/object/bench/${label.replace(' ', '')}/${i}.bin`, 'POST', { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-upsert': 'true' }, source(size));
          if (r.status !== 200) throw new Error(`upload ${label}: ${r.status}`);
        }
      });
      const copyDown = await timed(async () => {
        for (let i = 0; i < count; i++) await pipeline(createReadStream(join(bareDir, `f${i}`)), sink());
      });
      const bareDown = await timed(async () => {
        for (let i = 0; i < count; i++) await send(`${bareServer.url}/h${i}`, 'GET', {});
      });
      const ghDown = await timed(async () => {
        for (let i = 0; i < count; i++) {
          const r = await send(`${gh.url}/storage/v1/object/bench/${label.replace(' ', '')}/${i}.bin`, 'GET', headers);
          if (r.status !== 200 || r.bytes !== size) throw new Error(`download ${label}: ${r.status} ${r.bytes}`);
        }
      });
      const row = (what: string, g: number, bare: number, copy: number) =>
        `${label} x${count}  ${what}  gatehouse ${mbps(bytes, g).toFixed(0)} MiB/s | bare HTTP server ${mbps(bytes, bare).toFixed(0)} MiB/s, ratio ${(bare / g).toFixed(2)} | `
        + `bare stream copy (no HTTP, no fsync) ${mbps(bytes, copy).toFixed(0)} MiB/s, ratio ${(copy / g).toFixed(2)}`;
      rows.push(row('upload  ', ghUp, bareUp, copyUp), row('download', ghDown, bareDown, copyDown));
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

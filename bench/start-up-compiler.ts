// The cost to requests of pausing V8's optimizing compiler while `gatehouse start` starts
// (src/shared/start-up-compiler.ts, issue 18 idle memory): the built server with the pause (the
// default) and without it (`NODE_OPTIONS=--turbofan`, which bin/gatehouse.js respects), rounds
// alternating, each loaded right after ready for two windows of BENCH_SECONDS (default 5) with an
// authenticated admin read (key check, database read, JSON reply): the first window holds the
// warm-up, where the two differ if at all, the second is the steady state. Server CPU per request
// comes from /proc/<pid>/stat; idle RSS before the load from /proc/<pid>/status.
//   npm run build && npx tsx bench/start-up-compiler.ts      (BENCH_ROUNDS=3, BENCH_CONNECTIONS=16)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-compiler-'));
// Limits out of the way: the load is one client.
const windows = [{ limit: 100_000_000, windowMs: 60_000 }];
const tiers = { guest: windows, user: windows, admin: windows };
const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'default'].map((c) => [c, { failMode: 'open', tiers }]));
const configFile = join(dataDir, 'limits.json');
writeFileSync(configFile, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows } } }));

interface Started { child: ChildProcess; url: string; out: string; idleRssMb: number }

/** Starts the built server; ready once every `waitFor` has appeared on stdout, plus a second idle. */
function start(nodeFlags: string[], waitFor: RegExp[] = []): Promise<Started> {
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'bin', 'gatehouse.js'), 'start', '--port', '0'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: configFile, GATEHOUSE_LOG_FORMAT: 'json' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /"url":"([^"]+)","engine"[^\n]*"msg":"gatehouse ready"/.exec(out)?.[1];
      if (url && waitFor.every((pattern) => pattern.test(out))) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        // One second idle, as bench/startup.ts measures.
        setTimeout(() => resolve({ child, url, out, idleRssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024 }), 1000);
      }
    });
    child.on('exit', (code) => reject(new Error(`gatehouse exited with ${code}:\n${out}`)));
  });
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100
}

function load(url: string, key: string): Promise<{ total: number; non2xx: number; errors: number }> {
  const args = [AUTOCANNON, '-j', '-c', String(connections), '-d', String(seconds), '-H', `apikey=${key}`, `${url}/admin/v1/project`];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      const r = JSON.parse(stdout) as { requests: { total: number }; non2xx: number; errors: number };
      resolve({ total: r.requests.total, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
type Row = { rss: number; warmUs: number; warmRps: number; steadyUs: number; steadyRps: number };
const VARIANTS: Array<[string, string[]]> = [['compiler paused at start (default)', []], ['compiler on at start (--turbofan)', ['--turbofan']]];

try {
  // The first start makes the project and prints its dev keys on stdout (development mode).
  const KEY = /secret\s+\(server side\):\s+(\S+)/;
  const first = await start([], [KEY]);
  const key = KEY.exec(first.out)?.[1];
  first.child.kill('SIGTERM');
  await new Promise((resolve) => first.child.once('exit', resolve));
  if (!key) throw new Error(`no secret key in the first start's output:\n${first.out}`);
  const rows: Record<string, Row[]> = Object.fromEntries(VARIANTS.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, nodeFlags] of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      const server = await start(nodeFlags);
      const windowsSeen: Array<{ us: number; rps: number }> = [];
      for (let w = 0; w < 2; w++) {
        const before = cpuMs(server.child.pid!);
        const r = await load(server.url, key);
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        windowsSeen.push({ us: ((cpuMs(server.child.pid!) - before) * 1000) / r.total, rps: r.total / seconds });
      }
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve));
      rows[name]!.push({ rss: server.idleRssMb, warmUs: windowsSeen[0]!.us, warmRps: windowsSeen[0]!.rps, steadyUs: windowsSeen[1]!.us, steadyRps: windowsSeen[1]!.rps });
    }
  }
  console.log(`start-up compiler pause, median of ${rounds} rounds, ${seconds} s windows, ${connections} connections, GET /admin/v1/project`);
  console.log('variant                               idle RSS MB   first window: CPU µs/req  req/s   second window: CPU µs/req  req/s');
  for (const [name, list] of Object.entries(rows)) {
    const m = (pick: (row: Row) => number) => median(list.map(pick));
    console.log(`${name.padEnd(36)}  ${m((r) => r.rss).toFixed(0).padStart(11)}   ${m((r) => r.warmUs).toFixed(0).padStart(24)}  ${m((r) => r.warmRps).toFixed(0).padStart(5)}   ${m((r) => r.steadyUs).toFixed(0).padStart(25)}  ${m((r) => r.steadyRps).toFixed(0).padStart(5)}`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

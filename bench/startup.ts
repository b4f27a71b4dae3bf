// Start-up (issue 18): start-to-ready and idle RSS of the embedded default (`gatehouse start`,
// SQLite, no Redis, outbox mail, local storage) against a Fastify hello-world, in the same run,
// both plain `node` (no tsx). Rounds interleave the two (BENCH_ROUNDS, default 5); medians are
// reported. Gatehouse restarts on a data dir its first start made (a restart, the common case);
// the first start, which also migrates the database and makes the dev keys, is reported apart.
// Where the time goes: `node --cpu-prof bin/gatehouse.js start` (docs/operations.md "Start-up").
// Alone: `npm run build && npx tsx bench/startup.ts`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELLO = `import Fastify from 'fastify';
const app = Fastify();
app.get('/', async () => 'hello');
await app.listen({ host: '127.0.0.1', port: 0 });
console.log('READY');`;

/** Wall time to ready, CPU time to ready (user + system: what a busy machine distorts least), idle RSS. */
interface Start { readyMs: number; cpuMs: number; idleRssMb: number }

/** Spawns, times until `ready` appears on stdout, waits a second idle, reads VmRSS, stops it. */
function measure(args: string[], ready: string, env: Record<string, string> = {}): Promise<Start> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let readyMs = NaN;
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (Number.isNaN(readyMs) && out.includes(ready)) {
        readyMs = performance.now() - started;
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100
        setTimeout(() => {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
          child.kill('SIGTERM');
          resolve({ readyMs, cpuMs, idleRssMb: kb / 1024 });
        }, 1000);
      }
    });
    child.on('exit', (code) => {
      if (Number.isNaN(readyMs)) reject(new Error(`${args.join(' ')} exited with ${code} before ready:\n${out}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-start-'));
const gatehouse = () => measure([join(ROOT, 'bin', 'gatehouse.js'), 'start', '--port', '0'], '"msg":"gatehouse ready"', { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_FORMAT: 'json' });
const hello = () => measure(['--input-type=module', '-e', HELLO], 'READY');
try {
  const first = await gatehouse();
  const runs: Record<string, Start[]> = { 'fastify hello-world': [], 'gatehouse (restart)': [] };
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of (i % 2 === 0 ? [['fastify hello-world', hello], ['gatehouse (restart)', gatehouse]] : [['gatehouse (restart)', gatehouse], ['fastify hello-world', hello]]) as Array<[string, () => Promise<Start>]>) {
      runs[name]!.push(await run());
    }
  }
  console.log(`start-up, median of ${rounds} rounds, Node ${process.version}`);
  console.log('target                 start to ready ms  CPU ms to ready  idle RSS MB');
  const base = runs['fastify hello-world']!;
  for (const [name, list] of Object.entries(runs)) {
    const ratio = median(list.map((r, i) => r.readyMs / base[i]!.readyMs));
    console.log(`${name.padEnd(21)}  ${median(list.map((r) => r.readyMs)).toFixed(0).padStart(17)}  ${median(list.map((r) => r.cpuMs)).toFixed(0).padStart(15)}  ${median(list.map((r) => r.idleRssMb)).toFixed(0).padStart(11)}   (×${ratio.toFixed(2)} hello-world's time, ×${median(list.map((r, i) => r.cpuMs / base[i]!.cpuMs)).toFixed(2)} its CPU)`);
  }
  console.log(`gatehouse first start (migrations, dev keys): ${first.readyMs.toFixed(0)} ms, ${first.cpuMs.toFixed(0)} ms CPU, ${first.idleRssMb.toFixed(0)} MB`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

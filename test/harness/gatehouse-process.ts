// Gatehouse as a child process (`gatehouse start` from source), for fault tests that a process
// must survive or end by: signals, kill -9, dying database connections. Its stdout and stderr are
// kept so tests can count log lines.
//
//   const gh = await spawnGatehouse({ dataDir, databaseUrl });
//   await fetch(`${gh.url}/health`);
//   gh.kill('SIGTERM'); const { code } = await gh.exited;
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('./gatehouse-main.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

export interface GatehouseProcess {
  url: string;
  pid: number;
  /** The dev keys printed on the first run of a database (undefined on later runs). */
  secretKey: string | undefined;
  /** stdout + stderr so far. */
  output(): string;
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown> & { msg?: string }>;
  /** Resolves to the first line of output containing `text` (rejects after timeoutMs). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Extra GATEHOUSE_* settings. */
  env?: Record<string, string>;
  /** Run the built `bin/gatehouse.js` (dist/, what `npm start` runs) instead of the sources. */
  fromDist?: boolean;
  /** Flags for node itself (V8 flags such as --trace-opt, which NODE_OPTIONS does not take). */
  nodeFlags?: string[];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function spawnGatehouse(options: SpawnOptions): Promise<GatehouseProcess> {
  // Only what the child needs: no DATABASE_URL or REDIS_URL leaks in from the test's environment.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GATEHOUSE_DATA_DIR: options.dataDir,
    GATEHOUSE_LOG_LEVEL: 'info',
    GATEHOUSE_LLM_DEFERRED_SWEEP_MS: '0',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const entry = options.fromDist ? [BIN] : ['--import', 'tsx', MAIN];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...entry, 'start', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
      for (const l of listeners) l();
    });
  });

  const waitFor = (text: string, timeoutMs = 30_000) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes(text)) return done(null);
      if (child.exitCode !== null || child.signalCode !== null) return done(new Error(`gatehouse exited before "${text}":\n${out.slice(-4000)}`));
    };
    const timer = setTimeout(() => done(new Error(`no "${text}" within ${timeoutMs} ms:\n${out.slice(-4000)}`)), timeoutMs);
    const done = (error: Error | null) => {
      clearTimeout(timer);
      listeners.delete(check);
      if (error) reject(error);
      else resolve();
    };
    listeners.add(check);
    check();
  });

  const logs = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  });

  try {
    await waitFor('"msg":"gatehouse ready"');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const ready = logs().find((l) => l.msg === 'gatehouse ready')!;
  return {
    url: String(ready.url),
    pid: child.pid!,
    secretKey: /secret\s+\(server side\): (\S+)/.exec(out)?.[1],
    output: () => out,
    logs,
    waitFor,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => child.kill(signal),
  };
}

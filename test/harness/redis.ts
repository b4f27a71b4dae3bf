// Throwaway Redis servers for tests: a child redis-server (not daemonized) on a loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { findOnPath, freePort } from './net.js';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Kills the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop(); a no-op while running). */
  start(): Promise<void>;
}

/** Absolute path of redis-server, or null. */
export function findRedisBin(): string | null {
  return findOnPath('redis-server', ['/usr/bin', '/usr/local/bin', '/usr/sbin']);
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One raw PING; resolves true on +PONG. */
function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('close', () => done(false));
  });
}

// Children still alive when the process exits are killed (covers crashes and forgotten stop()).
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

// With setpriv --pdeathsig the kernel also kills redis if we die from SIGKILL, where no exit hook runs.
const setpriv = process.platform === 'linux' ? findOnPath('setpriv', ['/usr/bin', '/bin']) : null;

function spawnRedis(bin: string, port: number): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(file, argv, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  return child;
}

async function waitReady(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (await ping(port)) return;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within 15s:\n${output()}`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startRedis(port?: number): Promise<RedisServer> {
  const bin = findRedisBin();
  if (!bin) throw new Error('redis-server not found on PATH');

  let child: ChildProcess | null = null;
  let actualPort = port ?? 0;

  const launch = async (p: number): Promise<void> => {
    let out = '';
    const c = spawnRedis(bin, p);
    c.stdout?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-8000)));
    c.stderr?.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-8000)));
    c.once('error', (err) => (out += `\nspawn error: ${err.message}`));
    try {
      await waitReady(c, p, () => out);
    } catch (err) {
      await waitExit(c);
      throw err;
    }
    child = c;
  };

  if (port !== undefined) {
    await launch(port);
  } else {
    // A port picked by probing can be taken before redis binds it: retry with another.
    for (let attempt = 0; ; attempt++) {
      actualPort = await freePort();
      try {
        await launch(actualPort);
        break;
      } catch (err) {
        if (attempt >= 4) throw err;
      }
    }
  }

  return {
    url: `redis://127.0.0.1:${actualPort}`,
    port: actualPort,
    async stop(): Promise<void> {
      const c = child;
      child = null;
      if (!c) return;
      c.kill('SIGTERM');
      await waitExit(c);
    },
    async start(): Promise<void> {
      if (child) return;
      await launch(actualPort);
    },
  };
}

// Throwaway PostgreSQL servers for tests: a private cluster in a temp dir on a free loopback port.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth, superuser). */
  url: string;
  port: number;
  /** Immediate shutdown, then the temp dir is removed. Idempotent. */
  stop(): Promise<void>;
  /**
   * Fault tests only, on a server of their own (never the run's shared one): stops the server
   * but keeps its data (`fast`: sessions are terminated, `immediate`: like a crash).
   */
  halt(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts a halted server again on the same port and data. */
  resume(): Promise<void>;
  /** pg_terminate_backend for every other session on `database`; resolves to how many were ended. */
  terminateBackends(database: string, where?: string): Promise<number>;
}

export interface TestDatabase {
  url: string;
  /** Terminates its connections and drops the database. Idempotent. */
  drop(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((s) => Number.parseInt(s, 10) || 0);
  const pb = b.split('.').map((s) => Number.parseInt(s, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Directory holding initdb/pg_ctl/postgres (newest /usr/lib/postgresql/<v>/bin, else PATH), or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  try {
    const versions = readdirSync(root)
      .filter((v) => isExecutable(join(root, v, 'bin', 'pg_ctl')) && isExecutable(join(root, v, 'bin', 'initdb')))
      .sort(compareVersions);
    const newest = versions.at(-1);
    if (newest !== undefined) return join(root, newest, 'bin');
  } catch {
    // no Debian-style install
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'pg_ctl')) && isExecutable(join(dir, 'initdb'))) return dir;
  }
  return null;
}


const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(isExecutable) ?? 'runuser';

/** Command + args, wrapped in `runuser -u postgres --` when we are root (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? [runuser, ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const [file, argv] = asPostgres(cmd, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin and PATH)');
  const pgCtl = join(bin, 'pg_ctl');

  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  let started = false;

  // Last-resort cleanup if the process exits without stop() (crash, forgotten teardown).
  const onExit = (): void => {
    if (started) {
      const [file, argv] = asPostgres(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      spawnSync(file, argv, { cwd: dir, stdio: 'ignore', timeout: 20_000 });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    if (isRoot) chownSync(dir, userId('postgres'), groupId('postgres'));
    await run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], dir);

    // The port is only reserved until we close the probe socket: retry if someone grabs it first.
    let port = 0;
    let options = '';
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !started; attempt++) {
      port = await freePort();
      const opts = [
        `-p ${port}`,
        `-k '${dir}'`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=300',
      ].join(' ');
      try {
        await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', opts, 'start'], dir);
        started = true;
        options = opts;
      } catch (err) {
        lastError = err;
        // pg_ctl -w may fail while the postmaster is still alive: make sure it is gone before retrying.
        await run(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], dir).catch(() => undefined);
      }
    }
    if (!started) {
      throw new Error(`PostgreSQL did not start: ${String(lastError)}\n--- log ---\n${tail(logFile)}`);
    }
    const watchdog = startWatchdog(pgCtl, dataDir, dir);

    let stopped: Promise<void> | null = null;
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      async halt(mode) {
        await run(pgCtl, ['-D', dataDir, '-m', mode, '-w', 'stop'], dir);
      },
      async resume() {
        await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start'], dir);
      },
      terminateBackends(database, where = 'true') {
        return withClient(url, async (client) => {
          const res = await client.query(
            `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND (${where})`,
            [database],
          );
          return (res.rows[0] as { n: number }).n;
        });
      },
      stop(): Promise<void> {
        stopped ??= (async () => {
          process.removeListener('exit', onExit);
          watchdog?.kill('SIGKILL');
          try {
            await run(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], dir);
          } finally {
            started = false;
            rmSync(dir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (err) {
    process.removeListener('exit', onExit);
    onExit();
    throw err;
  }
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * pg_ctl daemonizes the server, so it would outlive us if we were SIGKILLed (no 'exit' hook runs then).
 * A detached shell polls our pid and stops the server and removes its dir once we are gone.
 */
function startWatchdog(pgCtl: string, dataDir: string, dir: string): ChildProcess | null {
  const [file, argv] = asPostgres(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  const stopCmd = [file, ...argv].map(shQuote).join(' ');
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `${stopCmd} >/dev/null 2>&1; rm -rf ${shQuote(dir)}`;
  try {
    const child = spawn('/bin/sh', ['-c', script], { cwd: '/', detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return child;
  } catch {
    return null;
  }
}

function userId(name: string): number {
  return Number.parseInt(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim(), 10);
}

function groupId(name: string): number {
  return Number.parseInt(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim(), 10);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A fresh, empty database `gh_<random hex>` on the server behind adminUrl (a superuser URL, e.g. the one
 * injected as `postgresUrl`). Each test (file) gets its own, so tests never see each other's tables.
 */
export async function createDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `gh_${randomBytes(8).toString('hex')}`;
  await withClient(adminUrl, async (client) => {
    // Concurrent CREATE DATABASE can transiently fail while template1 is busy: retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
        return;
      } catch (err) {
        const busy = err instanceof Error && /being accessed by other users/.test(err.message);
        if (!busy || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  let dropped: Promise<void> | null = null;
  return {
    url: withDatabase(adminUrl, name),
    drop(): Promise<void> {
      dropped ??= withClient(adminUrl, async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      return dropped;
    },
  };
}

// PostgreSQL backups through PostgreSQL's own tools: pg_dump in its custom format (a consistent
// snapshot of one transaction; the server keeps serving) and pg_restore into an empty database.
// The password never goes on a command line (other users can read those in ps): it is handed to
// the tool in PGPASSWORD, and the URL it sees has none.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createPrivateFile } from '../db/data-dir.js';
import { GatehouseError } from '../errors/index.js';
import { backupKind, checkMigrations, finish, partialPath, refuseExisting, type BackupSummary, type Contents } from './backup.js';

export interface PgTools {
  /** Where pg_dump and pg_restore are (e.g. /usr/lib/postgresql/15/bin); default: the PATH. */
  binDir?: string | undefined;
}

export async function backupPostgres(databaseUrl: string, file: string, tools: PgTools = {}): Promise<BackupSummary> {
  refuseExisting(file);
  const partial = partialPath(file);
  createPrivateFile(partial);
  const { url, env } = withoutPassword(databaseUrl);
  return finish(partial, file, 'postgres', async () => {
    await run(tools, 'pg_dump', ['--format=custom', '--no-password', `--file=${partial}`, `--dbname=${url}`], env);
    return inspectDump(partial, tools);
  });
}

/** Restores a pg_dump backup into `databaseUrl`, which must hold no tables yet. */
export async function restorePostgres(file: string, databaseUrl: string, tools: PgTools = {}): Promise<Contents> {
  if (backupKind(file) !== 'postgres') throw new GatehouseError('validation_failed', { message: `${file} is a SQLite backup: restore it with --data-dir.` });
  const contents = await inspectDump(file, tools);
  const { default: pg } = await import('pg'); // the server never restores: pg loads only here
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pg_tables where schemaname = 'public'");
    if (rows[0]!.n > 0) throw new GatehouseError('conflict', { message: 'The target database is not empty: restore into a new, empty database.' });
  } finally {
    await client.end();
  }
  const { url, env } = withoutPassword(databaseUrl);
  // One transaction: a restore that fails half-way leaves the database empty, not half-filled.
  await run(tools, 'pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${url}`, file], env);
  return contents;
}

/** The migrations and master key ids recorded in a dump, read from the dump alone. */
async function inspectDump(file: string, tools: PgTools): Promise<Contents> {
  const table = async (name: string) => copyRows(await run(tools, 'pg_restore', ['--data-only', `--table=${name}`, '--file=-', file], {}), name);
  const migrations = (await table('gatehouse_migrations')).map((r) => r.name!).sort();
  if (migrations.length === 0) throw new GatehouseError('validation_failed', { message: `${file} is not a Gatehouse backup (no migration history in it).` });
  checkMigrations(migrations, 'postgres');
  const masterKeyIds = [...new Set((await table('data_keys')).map((r) => r.master_key_id!))].sort();
  return { migrations, masterKeyIds };
}

/** Rows of a `COPY … FROM stdin;` block in pg_restore's SQL output, by column name. */
function copyRows(sqlText: string, table: string): Array<Record<string, string | null>> {
  const lines = sqlText.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`COPY public.${table} (`));
  if (start < 0) return [];
  const columns = /\(([^)]*)\)/.exec(lines[start]!)![1]!.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  const rows: Array<Record<string, string | null>> = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '\\.') break;
    const values = line.split('\t').map((v) => (v === '\\N' ? null : v.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c)));
    rows.push(Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null])));
  }
  return rows;
}

/** The password leaves the URL (userinfo or libpq's `?password=`) for PGPASSWORD: argv is visible in `ps`. */
export function withoutPassword(databaseUrl: string): { url: string; env: Record<string, string> } {
  const parsed = new URL(databaseUrl);
  const password = decodeURIComponent(parsed.password) || parsed.searchParams.get('password') || '';
  parsed.password = '';
  parsed.searchParams.delete('password');
  return { url: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

function run(tools: PgTools, tool: 'pg_dump' | 'pg_restore', args: string[], env: Record<string, string>): Promise<string> {
  const bin = tools.binDir ? join(tools.binDir, tool) : tool;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.once('error', (error) => reject(new GatehouseError('unexpected_failure', { message: `${tool} could not run (${error.message}); pass --pg-bin <dir of the PostgreSQL client tools>.`, cause: error })));
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new GatehouseError('unexpected_failure', { message: `${tool} failed (exit ${code}): ${err.trim()}` }));
    });
  });
}

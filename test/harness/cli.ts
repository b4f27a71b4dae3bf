// Runs the `gatehouse` CLI in-process against a test database, the way a
// person would against the server's data dir or DATABASE_URL:
//
//   const { code, out, err } = await runCliOn(db, ['--json', 'keys', 'list', '-p', 'shop']);
//   const res = await runCliOn(db, ['providers', 'set', 'openai', '--key-stdin'], { stdin: 'sk-…\n' });
import { Readable } from 'node:stream';
import { afterEach, beforeEach, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/index.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/index.js';
import { createProjectWithDevKeys } from '../../src/operations/create-project.js';
import { freshDatabaseUrl, type EngineName, type FreshDatabase } from './engines.js';

/** Where the CLI should work: a fresh test database, or a running test app's config. */
export interface CliTarget {
  dataDir: string;
  databaseUrl?: string | undefined;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCliOn(target: CliTarget, args: string[], options: { stdin?: string } = {}): Promise<CliResult> {
  const saved = { ...process.env };
  process.env.GATEHOUSE_DATA_DIR = target.dataDir;
  process.env.GATEHOUSE_LOG_LEVEL = 'silent';
  if (target.databaseUrl) process.env.DATABASE_URL = target.databaseUrl;
  else delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const stdin = options.stdin === undefined
    ? null
    : vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([Buffer.from(options.stdin)]) as never);
  try {
    return { code: await runCli(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    stdin?.mockRestore();
    process.env = saved;
  }
}

/** The app's dependencies on the same database, for setting up or checking what the CLI did. */
export function depsOn(target: CliTarget): Promise<Deps> {
  const env = { GATEHOUSE_DATA_DIR: target.dataDir, ...(target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {}) };
  return createDeps(loadConfig({ env }), { logger: createLogger({ level: 'silent' }) });
}

/** Creates a project with dev keys on the target database and closes its connections again. */
export async function seedProject(target: CliTarget, name: string): Promise<Awaited<ReturnType<typeof createProjectWithDevKeys>>> {
  const deps = await depsOn(target);
  try {
    return await createProjectWithDevKeys(deps, name, 'test');
  } finally {
    await deps.close();
  }
}

/**
 * A fresh database per test with the project `name` seeded, for CLI tests:
 *   const db = useSeededDatabase(engine, 'shop');   // then runCliOn(db, [...]) in tests
 * The returned target always points at the current test's database.
 */
export function useSeededDatabase(engine: EngineName, name: string): CliTarget {
  let current: FreshDatabase | null = null;
  beforeEach(async () => {
    current = await freshDatabaseUrl(engine);
    await seedProject(current, name);
  });
  afterEach(async () => {
    await current?.cleanup();
    current = null;
  });
  const now = (): FreshDatabase => {
    if (!current) throw new Error('useSeededDatabase: only inside a test');
    return current;
  };
  return {
    get dataDir() {
      return now().dataDir;
    },
    get databaseUrl() {
      return now().databaseUrl;
    },
  };
}

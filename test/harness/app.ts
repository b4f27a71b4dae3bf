// Builds a real Gatehouse (real storage engine, real keyring, real pipeline)
// for a test, with a project and dev keys ready:
//
//   const gh = await startTestApp('postgres');
//   const res = await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: gh.secretKey } });
//   await gh.close();
//
// Pass `listen: true` to get a real socket (for SDK clients) at gh.url.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { createProjectWithDevKeys } from '../../src/operations/create-project.js';
import type { Project } from '../../src/tenancy/index.js';
import { freshDatabaseUrl, type EngineName } from './engines.js';

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  config: Readonly<Config>;
  project: Project;
  publishableKey: string;
  secretKey: string;
  /** Everything the server logged, as JSON lines (to assert no secret leaks). */
  logs: string[];
  /** Set when listen: true. */
  url: string;
  /** Another project with its own dev keys, for isolation tests. */
  createProject(name: string): Promise<{ project: Project; publishableKey: string; secretKey: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra settings, as GATEHOUSE_* environment variables. */
  env?: Record<string, string>;
  clock?: Clock;
  listen?: boolean;
  /** Where the dashboard build is (default: dist/dashboard). */
  dashboardDir?: string;
  /** Reuse an existing database/data dir (e.g. a second instance). */
  database?: { databaseUrl: string | undefined; dataDir: string };
}

/** A pino destination that keeps every log line, so tests can assert no secret was logged. */
export function captureLogs(): { logs: string[]; destination: Writable } {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logs, destination };
}

export async function startTestApp(engine: EngineName, options: TestAppOptions = {}): Promise<TestApp> {
  const fresh = options.database ? null : await freshDatabaseUrl(engine);
  const database = options.database ?? fresh!;
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: database.dataDir,
    GATEHOUSE_LOG_LEVEL: 'info',
    GATEHOUSE_PORT: '0',
    // Tests run the sweep themselves (llm.sweepDeferred): a timed one would add provider
    // requests that tests counting the fake's requests do not expect.
    GATEHOUSE_LLM_DEFERRED_SWEEP_MS: '0',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...options.env,
  };
  const config = loadConfig({ env });
  const { logs, destination } = captureLogs();
  const deps = await createDeps(config, { logger: createLogger({ level: config.logLevel, destination }), clock: options.clock });
  const app = await buildApp(deps, { dashboardDir: options.dashboardDir });
  let url = '';
  if (options.listen) url = await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  const first = options.database
    ? await createProjectWithDevKeys(deps, `p${Math.random().toString(36).slice(2, 10)}`, 'test')
    : await createProjectWithDevKeys(deps, 'default', 'test');
  return {
    app, deps, config, url, logs,
    project: first.project,
    publishableKey: first.publishableKey,
    secretKey: first.secretKey,
    createProject: (name) => createProjectWithDevKeys(deps, name, 'test'),
    async close() {
      await app.close();
      await deps.close();
      await fresh?.cleanup();
    },
  };
}

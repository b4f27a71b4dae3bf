// A real Gatehouse (real storage, real pipeline, real limiter on memory or Redis) with probe
// routes of every route class added before it starts, a settable clock and a config file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogs } from '../harness/app.js';
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/index.js';
import { createProjectWithDevKeys } from '../../src/operations/create-project.js';
import type { Project } from '../../src/tenancy/index.js';
import { inject } from 'vitest';
import { engines, freshDatabaseUrl, type EngineName } from '../harness/engines.js';

export interface SettableClock {
  ms: number;
  now(): Date;
  nowMs(): number;
}

/**
 * A frozen clock at a random whole hour far in the future: windows are epoch-aligned, so each app
 * counts in windows no other test (sharing the run's Redis) ever uses.
 */
export function frozenClock(): SettableClock {
  const hour = 3_600_000;
  const ms = Date.UTC(2035, 0, 1) + Math.floor(Math.random() * 5_000_000) * hour;
  return { ms, now() { return new Date(this.ms); }, nowMs() { return this.ms; } };
}

/** Probe routes: one per class and surface. `hits` counts how often each handler really ran. */
export const PROBES = {
  auth: { method: 'POST', url: '/auth/v1/__limits_probe' },
  llmOpenai: { method: 'POST', url: '/llm/openai/v1/__limits_probe' },
  llmAnthropic: { method: 'POST', url: '/llm/anthropic/v1/__limits_probe' },
  dataRead: { method: 'GET', url: '/rest/v1/__limits_probe' },
  dataWrite: { method: 'POST', url: '/rest/v1/__limits_probe' },
  default: { method: 'GET', url: '/__limits_probe' },
} as const;
export type ProbeName = keyof typeof PROBES;

export interface LimitsApp {
  app: FastifyInstance;
  deps: Deps;
  config: Readonly<Config>;
  project: Project;
  publishableKey: string;
  secretKey: string;
  logs: string[];
  url: string;
  hits: Record<ProbeName, number>;
  database: { databaseUrl: string | undefined; dataDir: string };
  createProject(name: string): Promise<{ project: Project; publishableKey: string; secretKey: string }>;
  close(): Promise<void>;
}

export interface LimitsAppOptions {
  clock: SettableClock;
  redisUrl?: string | null;
  /** The config file's `rateLimits` section. */
  rateLimits?: unknown;
  env?: Record<string, string>;
  listen?: boolean;
  /** Share another instance's database (no project is created then unless createFirst). */
  database?: { databaseUrl: string | undefined; dataDir: string };
}

export async function startLimitsApp(engine: EngineName, options: LimitsAppOptions): Promise<LimitsApp> {
  const fresh = options.database ? null : await freshDatabaseUrl(engine);
  const database = options.database ?? { databaseUrl: fresh!.databaseUrl, dataDir: fresh!.dataDir };
  const configDir = await mkdtemp(join(tmpdir(), 'gh-limits-cfg-'));
  const configFile = join(configDir, 'gatehouse.json');
  await writeFile(configFile, JSON.stringify(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }));
  const config = loadConfig({
    env: {
      GATEHOUSE_CONFIG: configFile,
      GATEHOUSE_DATA_DIR: database.dataDir,
      GATEHOUSE_LOG_LEVEL: 'info',
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...options.env,
    },
  });
  const { logs, destination } = captureLogs();
  const deps = await createDeps(config, { logger: createLogger({ level: config.logLevel, destination }), clock: options.clock });
  const app = await buildApp(deps);
  const hits = Object.fromEntries(Object.keys(PROBES).map((k) => [k, 0])) as Record<ProbeName, number>;
  for (const [name, probe] of Object.entries(PROBES) as Array<[ProbeName, (typeof PROBES)[ProbeName]]>) {
    // auth and default declare their class; llm and rest leave it to the path (the fallback).
    const routeConfig: FastifyContextConfig = name === 'auth' ? { routeClass: 'auth' } : name === 'default' ? { routeClass: 'default' } : {};
    app.route({ method: probe.method, url: probe.url, config: routeConfig, handler: async () => {
      hits[name]++;
      return { ok: true };
    } });
  }
  let url = '';
  if (options.listen) url = await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  const first = await createProjectWithDevKeys(deps, `p${Math.random().toString(36).slice(2, 10)}`, 'test');
  return {
    app, deps, config, url, logs, hits, database,
    project: first.project,
    publishableKey: first.publishableKey,
    secretKey: first.secretKey,
    createProject: (name) => createProjectWithDevKeys(deps, name, 'test'),
    async close() {
      await app.close();
      await deps.close();
      await rm(configDir, { recursive: true, force: true });
      await fresh?.cleanup();
    },
  };
}

/** Every engine with the memory store and, when the run has a Redis, with the Redis store. */
export function storeCombos(): Array<{ engine: EngineName; store: 'memory' | 'redis'; redis: string | null }> {
  const redisUrl = inject('redisUrl');
  return engines().flatMap((engine) => [
    { engine, store: 'memory' as const, redis: null },
    ...(redisUrl ? [{ engine, store: 'redis' as const, redis: redisUrl }] : []),
  ]);
}

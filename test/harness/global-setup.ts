// Vitest globalSetup: one PostgreSQL and one Redis for the whole run, handed to tests via inject(),
// and the dashboard build (dist/dashboard) brought up to date.
//
// Missing binaries: in CI (CI=true) that is an error, because those tests must run there. Locally the
// tests that need them are skipped, with a loud line so nobody mistakes a skip for a pass.
import type { TestProject } from 'vitest/node';
import { ensureDashboardBuilt } from './dashboard-build.js';
import { findPostgresBin, startPostgres, type PostgresServer } from './postgres.js';
import { findRedisBin, startRedis, type RedisServer } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL, or null when PostgreSQL is not installed (local runs only). */
    postgresUrl: string | null;
    /** URL of the run's Redis, or null when redis-server is not installed (local runs only). */
    redisUrl: string | null;
  }
}

function missing(what: string, hint: string): void {
  if (process.env.CI === 'true') {
    throw new Error(`${what} not found, and CI=true: tests that need it must run in CI (${hint})`);
  }
  console.warn(`\n!!! ${what} not found: ${what} tests are SKIPPED (${hint})\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The dashboard's browser tests serve dist/dashboard: built here, once, before any file runs.
  ensureDashboardBuilt();
  const wantPg = findPostgresBin() !== null;
  const wantRedis = findRedisBin() !== null;
  if (!wantPg) missing('PostgreSQL', 'apt-get install postgresql');
  if (!wantRedis) missing('Redis', 'apt-get install redis-server');

  const [pgResult, redisResult] = await Promise.allSettled([
    wantPg ? startPostgres() : Promise.resolve(null),
    wantRedis ? startRedis() : Promise.resolve(null),
  ]);
  const postgres: PostgresServer | null = pgResult.status === 'fulfilled' ? pgResult.value : null;
  const redis: RedisServer | null = redisResult.status === 'fulfilled' ? redisResult.value : null;

  const teardown = async (): Promise<void> => {
    await Promise.allSettled([postgres?.stop(), redis?.stop()]);
  };

  // Installed but failed to start: always an error, never a silent skip.
  const failures = [pgResult, redisResult].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    await teardown();
    throw new AggregateError(
      failures.map((f) => f.reason as unknown),
      `test services failed to start:\n${failures.map((f) => String(f.reason)).join('\n')}`,
    );
  }

  project.provide('postgresUrl', postgres?.url ?? null);
  project.provide('redisUrl', redis?.url ?? null);
  return teardown;
}

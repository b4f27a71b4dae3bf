// Issue 18: the embedded default (SQLite, no Redis, outbox mail, local storage) must not load the
// drivers of features it does not use: pg, ioredis, nodemailer and the AWS SDK are most of a cold
// start's module loading. The built server runs with an ESM resolve hook that logs every module
// it loads; the same check with Redis configured proves the log would see ioredis if it loaded.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../harness/engines.js';
import { spawnGatehouse } from '../harness/gatehouse-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOOK = fileURLToPath(new URL('../harness/module-log/register.mjs', import.meta.url));
const LAZY = ['pg', 'ioredis', 'nodemailer', '@aws-sdk'];
/** What the bundle leaves in node_modules and the default loads at start (the bundle script says why). */
const FROM_NODE_MODULES = new Set(['better-sqlite3', '@node-rs/argon2']);
/** Left in node_modules by the bundle and loaded on first use (http/lazy-api-docs.ts: idle memory). */
const ON_FIRST_USE = ['@fastify/swagger-ui'];

/**
 * The packages (under node_modules) a server loaded from its start until it was ready, or until
 * `then` (requests to the running server) is done.
 */
async function packagesLoadedAtStart(env: Record<string, string> = {}, then?: (url: string) => Promise<void>): Promise<Set<string>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-lazy-'));
  const log = join(dataDir, 'modules.log');
  const gh = await spawnGatehouse({
    dataDir, fromDist: true,
    env: { NODE_OPTIONS: `--import=${HOOK}`, TEST_MODULE_LOG_FILE: log, ...env },
  }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  try {
    // A request served proves start-up is over; the first LLM or storage call is not made.
    expect((await fetch(`${gh.url}/health`)).status).toBe(200);
    await then?.(gh.url);
    const packages = new Set<string>();
    for (const url of (await readFile(log, 'utf8')).split('\n')) {
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      if (match) packages.add(match[1]!.startsWith('@aws-sdk/') ? '@aws-sdk' : match[1]!);
    }
    return packages;
  } finally {
    gh.kill('SIGTERM');
    await gh.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('start-up loads only what the configuration uses', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs')], { stdio: 'ignore', timeout: 180_000 });
  }, 200_000);

  it('the embedded default loads none of pg, ioredis, nodemailer, @aws-sdk', async () => {
    const loaded = await packagesLoadedAtStart();
    // The log works: the native addon the default does use is in it.
    expect(loaded).toContain('better-sqlite3');
    expect(LAZY.filter((name) => loaded.has(name))).toEqual([]);
  }, 60_000);

  it('the built server runs from the bundle: only native addons and self-locating packages come from node_modules', async () => {
    // scripts/build-server-bundle.mjs, preferred by bin/gatehouse.js while it is as new as dist/cli.
    expect(statSync(join(ROOT, 'dist', 'bundle', 'main.js')).mtimeMs).toBeGreaterThanOrEqual(statSync(join(ROOT, 'dist', 'cli', 'main.js')).mtimeMs);
    const loaded = await packagesLoadedAtStart();
    expect(loaded).toContain('better-sqlite3');
    // Fastify, Kysely, TypeBox, jose, pino, undici… are in the bundle: ~3,000 module files not opened.
    expect([...loaded].filter((name) => !FROM_NODE_MODULES.has(name))).toEqual([]);
  }, 60_000);

  it('the API docs page (swagger-ui) loads with the first /docs request, not at start', async () => {
    const atStart = await packagesLoadedAtStart();
    expect(atStart).toContain('better-sqlite3');
    expect(ON_FIRST_USE.filter((name) => atStart.has(name))).toEqual([]);
    // The log would see it: after a docs request it is loaded, and the page is served.
    const afterDocs = await packagesLoadedAtStart({}, async (url) => {
      const page = await fetch(`${url}/docs/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('swagger');
    });
    expect(ON_FIRST_USE.filter((name) => !afterDocs.has(name))).toEqual([]);
  }, 60_000);

  it.skipIf(!redisUrl())('with REDIS_URL set, ioredis is loaded (and still no pg, mail or S3)', async () => {
    const loaded = await packagesLoadedAtStart({ REDIS_URL: redisUrl()! });
    expect(loaded).toContain('ioredis');
    expect(['pg', 'nodemailer', '@aws-sdk'].filter((name) => loaded.has(name))).toEqual([]);
  }, 60_000);
});

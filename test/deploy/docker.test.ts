// deploy/docker: Docker does not run on the test machines, so the image is never built here.
// What is checked instead, honestly:
//   - the Dockerfile's build steps are CI's (.ci/run): the same toolchain from Debian, native
//     addons built from source, `npm ci`, `npm run build`, then `npm prune --omit=dev` (not run
//     here: it would strip the shared node_modules); multi-stage, non-root, a HEALTHCHECK;
//   - the image's start command and its HEALTHCHECK command, taken from the Dockerfile, run for
//     real on a build of this checkout (dist/) with the image's ENV and compose.yml's settings,
//     as the two instances of compose.yml on one PostgreSQL and one Redis: both report healthy,
//     stop with exit 0 on SIGTERM, and then report unhealthy.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { generateMasterKey } from '../../src/crypto/index.js';
import { freshDatabaseUrl, postgresUrl, redisUrl, type FreshDatabase } from '../harness/engines.js';
import { DEPLOY, freePort, ROOT, run } from './tools.js';

interface Stage {
  from: string;
  instructions: Array<{ op: string; args: string }>;
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') stages.push({ from: args.trim(), instructions: [] });
    else stages.at(-1)!.instructions.push({ op, args: args.trim().replace(/\s+/g, ' ') });
  }
  return stages;
}

/** ENV lines as a map (`ENV A=1 B=2`). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.op === 'ENV')) {
    for (const pair of args.split(' ')) {
      const [k, ...v] = pair.split('=');
      env[k!] = v.join('=');
    }
  }
  return env;
}

/** The JSON exec form of CMD, or of HEALTHCHECK ... CMD. */
function execForm(args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[];
}

/** compose.yml's `environment:` map of the x-gatehouse anchor (flat `KEY: value` lines). */
function composeEnvironment(text: string): Record<string, string> {
  const block = /^x-gatehouse:[\s\S]*?^ {2}environment:\n((?: {4}.*\n| {4}#.*\n)+)/m.exec(text);
  if (!block) throw new Error('compose.yml: no environment in x-gatehouse');
  const env: Record<string, string> = {};
  for (const line of block[1]!.split('\n')) {
    const m = /^ {4}([A-Z_]+): (.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

describe('Dockerfile and compose.yml: what they must say', () => {
  it('builds like CI: Debian toolchain, addons from source, npm ci → npm run build → npm prune --omit=dev; runs as node with a HEALTHCHECK on /health', async () => {
    const ci = await readFile(join(ROOT, '.ci', 'run'), 'utf8');
    const stages = parseDockerfile(await readFile(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8'));
    expect(stages).toHaveLength(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:20-bookworm-slim( AS build)?$/);
    const [build, runtime] = stages as [Stage, Stage];

    // The toolchain CI installs to compile native addons, and the from-source switch.
    const toolchain = ['make', 'g++', 'python3'];
    for (const t of toolchain) expect(ci).toContain(`have ${t} || build_tools+=(${t})`);
    expect(ci).toContain('export npm_config_build_from_source=true');
    const apt = build.instructions.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'))!;
    for (const t of toolchain) expect(apt.args.split(' ')).toContain(t);
    expect(envOf(build)).toMatchObject({ npm_config_build_from_source: 'true' });
    expect(ci).toContain('npm ci </dev/null');
    expect(build.instructions.filter((i) => i.op === 'RUN' && i.args.startsWith('npm ')).map((i) => i.args)).toEqual(['npm ci', 'npm run build', 'npm prune --omit=dev']);
    // Everything copied in exists in the checkout.
    for (const copy of build.instructions.filter((i) => i.op === 'COPY')) {
      for (const source of copy.args.split(' ').slice(0, -1)) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }

    // Runtime: the build's output only, as `node`, checked on /health.
    expect(runtime.instructions.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual([
      '--from=build /app/package.json ./', '--from=build /app/node_modules ./node_modules', '--from=build /app/bin ./bin', '--from=build /app/dist ./dist',
    ]);
    expect(runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['node']);
    const health = runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!;
    expect(execForm(health.args).join(' ')).toContain('/health');
    expect(envOf(runtime)).toMatchObject({ NODE_ENV: 'production', GATEHOUSE_MODE: 'production', GATEHOUSE_DATA_DIR: '/data' });
  });

  it('compose.yml: two Gatehouse instances from the Dockerfile, PostgreSQL and Redis, secrets from files, a stop grace above the drain', async () => {
    const compose = await readFile(join(DEPLOY, 'docker', 'compose.yml'), 'utf8');
    const services = [...compose.matchAll(/^ {2}([a-z0-9-]+):\n/gm)].map((m) => m[1]).filter((s) => compose.indexOf(`  ${s}:\n`) > compose.indexOf('\nservices:\n'));
    expect(services.slice(0, 4)).toEqual(['gatehouse-1', 'gatehouse-2', 'postgres', 'redis']);
    expect(compose.match(/^ {4}<<: \*gatehouse$/gm)).toHaveLength(2);
    expect(compose).toContain('dockerfile: deploy/docker/Dockerfile');
    const env = composeEnvironment(compose);
    expect(env).toMatchObject({ REDIS_URL: 'redis://redis:6379', GATEHOUSE_MASTER_KEY_FILE: '/run/secrets/master_key' });
    // No secret inline: the master key and the database password come from secret files.
    expect(Object.keys(env)).not.toContain('GATEHOUSE_MASTER_KEY');
    expect(Object.keys(env)).not.toContain('DATABASE_URL');
    expect(compose).not.toMatch(/POSTGRES_PASSWORD:/);
    const grace = Number(/^ {2}stop_grace_period: (\d+)s$/m.exec(compose)![1]) * 1000;
    expect(grace).toBeGreaterThan(Number(env.GATEHOUSE_SHUTDOWN_TIMEOUT_MS ?? loadConfig({ env: {} }).shutdownTimeoutMs) + 3_000);
  });
});

// Needs PostgreSQL and Redis from the test run (always there in CI), as compose.yml does.
describe.skipIf(!postgresUrl() || !redisUrl())('the image\'s start command and HEALTHCHECK, run on this checkout as compose.yml\'s two instances', () => {
  let database: FreshDatabase;
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  let cmd: string[];
  let healthcheck: string[];
  let baseEnv: Record<string, string>;

  beforeAll(async () => {
    // The image runs dist/: build it if this checkout has not (CI's npm ci already did).
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      const built = await run('npm', ['run', 'build', '--silent'], { cwd: ROOT, timeoutMs: 170_000 });
      expect(built.code, built.stdout + built.stderr).toBe(0);
    }
    const stages = parseDockerfile(await readFile(join(DEPLOY, 'docker', 'Dockerfile'), 'utf8'));
    const runtime = stages.at(-1)!;
    cmd = execForm(runtime.instructions.find((i) => i.op === 'CMD')!.args);
    healthcheck = execForm(runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!.args);
    const composeEnv = composeEnvironment(await readFile(join(DEPLOY, 'docker', 'compose.yml'), 'utf8'));
    database = await freshDatabaseUrl('postgres');
    const secrets = await mkdtemp(join(tmpdir(), 'gh-docker-secrets-'));
    dirs.push(secrets);
    await writeFile(join(secrets, 'master_key'), `${generateMasterKey()}\n`, { mode: 0o600 });
    // The image's ENV, then compose.yml's, then what differs on a test machine: where the
    // secrets and services are (compose's hostnames do not resolve here).
    baseEnv = {
      PATH: process.env.PATH ?? '',
      ...envOf(runtime),
      ...composeEnv,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_MASTER_KEY_FILE: join(secrets, 'master_key'),
      DATABASE_URL: database.databaseUrl!,
      REDIS_URL: redisUrl()!,
      GATEHOUSE_SHUTDOWN_TIMEOUT_MS: '5000',
    };
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database?.cleanup();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });


  /** The HEALTHCHECK command's exit code, polled like Docker would until `want` (or the last one). */
  async function healthy(env: Record<string, string>, want: number, tries = 100): Promise<number> {
    let code = -1;
    for (let i = 0; i < tries; i++) {
      const [file, ...args] = healthcheck;
      code = (await run(file === 'node' ? process.execPath : file!, args, { env, timeoutMs: 3_000 })).code;
      if (code === want) return code;
      await new Promise((r) => setTimeout(r, 100));
    }
    return code;
  }

  it('both instances start in production mode, pass the HEALTHCHECK, stop with exit 0 on SIGTERM, then fail it', async () => {
    const instances: Array<{ env: Record<string, string>; child: ChildProcess; out: () => string; exited: Promise<number | null> }> = [];
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'gh-docker-data-'));
      dirs.push(dataDir);
      const env = { ...baseEnv, GATEHOUSE_PORT: String(await freePort()), GATEHOUSE_DATA_DIR: dataDir };
      const [file, ...args] = cmd;
      const child = spawn(file === 'node' ? process.execPath : file!, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      instances.push({ env, child, out: () => out, exited });
    }
    for (const instance of instances) expect(await healthy(instance.env, 0), instance.out()).toBe(0);
    for (const instance of instances) {
      expect(instance.out()).toContain('"mode":"production"');
      expect(instance.out()).toContain('"engine":"postgres"');
    }
    for (const instance of instances) instance.child.kill('SIGTERM');
    for (const instance of instances) expect(await instance.exited, instance.out()).toBe(0);
    for (const instance of instances) expect(await healthy(instance.env, 1, 1)).toBe(1);
  }, 120_000);
});

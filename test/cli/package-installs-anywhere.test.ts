// Issue 13 §4: `npx gatehouse` outside this repository installed an unrelated npm package of that
// name. The package is gatehouse-server (its command stays `gatehouse`); this packs it the way
// `npm publish` would and installs the tarball into an empty directory without devDependencies,
// the way a user's `npm i -g gatehouse-server` or `npx gatehouse-server` does, then runs it there.
// One install per run: better-sqlite3 compiles from source (its prebuilt binaries live on GitHub,
// which CI does not use): a minute on an idle machine, many on a busy one.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };

/** npm's environment as CI sets it: native addons built here, Node headers from this Node, no GitHub. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_build_from_source: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  // The test run's own settings must not reach the installed command.
  for (const name of Object.keys(env)) if (/^(GATEHOUSE_|DATABASE_URL$|REDIS_URL$)/.test(name)) delete env[name];
  return env;
}

describe('the packed package', () => {
  const work = mkdtempSync(join(tmpdir(), 'gh-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is named gatehouse-server, keeps the gatehouse command, and installs and runs from an empty directory without devDependencies', async () => {
    expect(pkg.name).toBe('gatehouse-server');
    expect(Object.keys(pkg.bin)).toEqual(['gatehouse']);

    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
    const { filename, files } = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const paths = files.map((f) => f.path);
    // What it needs to run and read, and nothing else: no sources, tests, CI scripts or lockfile.
    for (const path of paths) expect(path, path).toMatch(/^(bin\/|dist\/|docs\/|README\.md$|LICENSE$|package\.json$)/);
    expect(paths).toEqual(expect.arrayContaining(['bin/gatehouse.js', 'dist/cli/main.js', 'dist/server.js', 'README.md', 'LICENSE']));
    expect(paths.filter((p) => p.endsWith('.test.js'))).toEqual([]);

    const app = join(work, 'app');
    mkdirSync(app);
    await run('npm', ['install', '--omit=dev', '--no-package-lock', join(packDir, filename)], { cwd: app, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
    const gatehouse = join(app, 'node_modules', '.bin', 'gatehouse');

    const version = await run(gatehouse, ['--version'], { cwd: app, env: npmEnv() });
    expect(version.stdout).toBe(`${pkg.version}\n`);

    const dataDir = join(work, 'data');
    const init = await run(gatehouse, ['init', '--json', '--data-dir', dataDir], { cwd: app, env: npmEnv() });
    const created = JSON.parse(init.stdout) as { project_id: string };
    expect(created).toMatchObject({
      project: 'default', environment: 'dev',
      publishable_key: expect.stringMatching(new RegExp(`^pk_dev_${created.project_id}_`)), secret_key: expect.stringMatching(new RegExp(`^sk_dev_${created.project_id}_`)),
    });
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['gatehouse.db', 'master.key']));
    // The data went where it was told, not into the directory the command ran from.
    expect(existsSync(join(app, '.gatehouse'))).toBe(false);
  }, 30 * 60_000);
});

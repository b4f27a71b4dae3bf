// The developer loop: `npm start` builds only when a source changed, `npm run dev` restarts on a
// change, and logs are readable on a terminal without losing their redaction.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_IF_CHANGED = join(ROOT, 'scripts', 'build-if-changed.mjs');
const MAIN = join(ROOT, 'test', 'harness', 'gatehouse-main.ts');

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  // Each child leads its own process group (detached): end it and whatever it started (tsx watch's child).
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A child whose output is kept, with a wait for the nth occurrence of a text. */
function run(command: string, args: string[], env: Record<string, string>): { output(): string; waitFor(text: string, nth?: number): Promise<void> } {
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const waitFor = (text: string, nth = 1) => new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 45_000;
    const check = () => {
      if (out.split(text).length - 1 >= nth) return resolve();
      if (child.exitCode !== null || Date.now() > deadline) return reject(new Error(`no ${nth}× "${text}":\n${out.slice(-3000)}`));
      setTimeout(check, 50);
    };
    check();
  });
  return { output: () => out, waitFor };
}

/** The URL of the nth "gatehouse ready" line (JSON logs). */
function readyUrl(output: string, nth: number): string {
  const lines = output.split('\n').filter((l) => l.includes('"msg":"gatehouse ready"'));
  return String((JSON.parse(lines[nth - 1]!) as { url: string }).url);
}

describe('npm start builds only when a source changed', () => {
  /** A tiny project with the same layout as ours, so the test never rebuilds the real dist/. */
  function project(): string {
    const dir = tempDir('gh-build-');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const answer: number = 41;\n');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: [], skipLibCheck: true, outDir: 'dist', rootDir: 'src' } }));
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    return dir;
  }
  const build = (dir: string) => execFileSync(process.execPath, [BUILD_IF_CHANGED, '--root', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('a second start with no change skips tsc and leaves dist/ untouched; a changed source is rebuilt', () => {
    const dir = project();
    expect(build(dir)).toMatch(/dist\/ built in/);
    const out = join(dir, 'dist', 'a.js');
    expect(readFileSync(out, 'utf8')).toContain('41');
    const builtAt = statSync(out).mtimeMs;

    expect(build(dir)).toBe('dist/ is up to date: build skipped\n');
    expect(statSync(out).mtimeMs).toBe(builtAt);

    writeFileSync(join(dir, 'src', 'a.ts'), 'export const answer: number = 42;\n');
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, 'src', 'a.ts'), later, later);
    expect(build(dir)).toMatch(/dist\/ built in/);
    expect(readFileSync(out, 'utf8')).toContain('42');
  }, 120_000);

  it('a failed build is retried on the next start, not skipped', () => {
    const dir = project();
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const answer: number = "not a number";\n');
    /** What tsc printed when the build failed. */
    const failure = (): string => {
      try {
        build(dir);
      } catch (error) {
        return String((error as { stdout?: string }).stdout);
      }
      throw new Error('the build did not fail');
    };
    expect(failure()).toMatch(/error TS2322/);
    expect(existsSync(join(dir, 'dist', '.build-stamp'))).toBe(false);
    // Nothing changed since, yet tsc runs again: a broken dist/ is never taken for a built one.
    expect(failure()).toMatch(/error TS2322/);
  }, 120_000);

  it('a change to tsconfig or package.json rebuilds too', () => {
    const dir = project();
    build(dir);
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, 'package.json'), later, later);
    expect(build(dir)).toMatch(/dist\/ built in/);
  }, 120_000);

  it('npm start runs the script, not tsc', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('node scripts/build-if-changed.mjs && node bin/gatehouse.js start');
  });
});

describe('npm run dev', () => {
  it('starts, answers /health, and restarts when a source file changes', async () => {
    const dev = run('npm', ['run', 'dev', '--silent', '--', '--port', '0'], { GATEHOUSE_DATA_DIR: tempDir('gh-dev-') });
    await dev.waitFor('"msg":"gatehouse ready"');
    expect((await fetch(`${readyUrl(dev.output(), 1)}/health`)).status).toBe(200);

    // Rewriting a source file with its own bytes is a change to the watcher, and leaves the tree as it was.
    const source = join(ROOT, 'src', 'health', 'routes.ts');
    writeFileSync(source, readFileSync(source));
    await dev.waitFor('"msg":"gatehouse ready"', 2);
    expect(dev.output()).toContain('"msg":"stopped"');
    expect((await fetch(`${readyUrl(dev.output(), 2)}/health`)).status).toBe(200);
  }, 90_000);
});

describe('pretty logs on a terminal', () => {
  it('GATEHOUSE_LOG_FORMAT=pretty: request lines are human-readable and carry no key', async () => {
    const gh = run(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0'], { GATEHOUSE_DATA_DIR: tempDir('gh-pretty-'), GATEHOUSE_LOG_FORMAT: 'pretty' });
    await gh.waitFor('gatehouse ready');
    const url = /curl -s (http:\/\/\S+)\/admin\/v1\/project/.exec(gh.output())![1]!;
    const secret = /secret\s+\(server side\): (\S+)/.exec(gh.output())![1]!;
    const before = gh.output().length;

    const res = await fetch(`${url}/admin/v1/project?apikey=${secret}`, { headers: { apikey: secret } });
    expect(res.status).toBe(200);
    await gh.waitFor('request completed');
    const lines = gh.output().slice(before);
    // One line per request, at its end, holding the URL (its key redacted).
    expect(lines).not.toContain('incoming request');
    expect(lines).toContain('/admin/v1/project?apikey=[Redacted]');
    expect(lines.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines).not.toContain(secret);
    expect(lines).toContain('[Redacted]');
  }, 60_000);

  it('auto on a real terminal (script -qc) prints pretty lines; on a pipe, JSON', async () => {
    const dataDir = tempDir('gh-tty-');
    const command = `${process.execPath} --import tsx ${MAIN} start --port 0`;
    const tty = run('script', ['-qfc', command, '/dev/null'], { GATEHOUSE_DATA_DIR: dataDir });
    await tty.waitFor('gatehouse ready');
    expect(tty.output()).not.toContain('"msg":"gatehouse ready"');
    expect(tty.output()).toMatch(/INFO.*gatehouse ready/);

    const pipe = run(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0'], { GATEHOUSE_DATA_DIR: dataDir });
    await pipe.waitFor('"msg":"gatehouse ready"');
  }, 60_000);
});

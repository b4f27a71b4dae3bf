#!/usr/bin/env node
// `npm start` builds dist/ only when a source of the build changed since the last good build.
//
// Why not just `tsc -b` (incremental): even with nothing to do, tsc loads the compiler and checks
// every file's hash and the program graph, several seconds on this code base, paid on every
// restart. Comparing modification times costs milliseconds. The stamp is written only after tsc
// exits 0, so a failed build is retried on the next start instead of running a half-emitted dist/.
//
//   node scripts/build-if-changed.mjs [--root <dir>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(root, 'dist', '.build-stamp');
// What the build reads: the sources (the server's and the dashboard's), and the files that decide how they compile.
const INPUTS = ['src', 'dashboard', 'scripts/build-dashboard.mjs', 'scripts/build-server-bundle.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Newest mtime under a path. Directories count too: deleting or renaming a file changes its folder's mtime. */
function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

const newestInput = Math.max(...INPUTS.map((p) => newestMtimeMs(join(root, p))));
const stampMs = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
if (stampMs > newestInput) {
  process.stdout.write('dist/ is up to date: build skipped\n');
  process.exit(0);
}

const started = Date.now();
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// The dashboard (scripts/build-dashboard.mjs), when the root has its sources: an installed package ships it built.
if (existsSync(join(root, 'dashboard', 'src', 'main.tsx'))) {
  const script = fileURLToPath(new URL('build-dashboard.mjs', import.meta.url));
  const dashboard = spawnSync(process.execPath, [script, '--root', root], { cwd: root, stdio: 'inherit' });
  if (dashboard.status !== 0) process.exit(dashboard.status ?? 1);
}
// The one-file server bundle bin/gatehouse.js prefers (scripts/build-server-bundle.mjs), rebuilt with
// dist/ whenever the root is the server (its entry compiled).
if (existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  const bundle = spawnSync(process.execPath, [fileURLToPath(new URL('build-server-bundle.mjs', import.meta.url)), '--root', root], { cwd: root, stdio: 'inherit' });
  if (bundle.status !== 0) process.exit(bundle.status ?? 1);
}
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
// The stamp carries the time the build started: a file saved while tsc ran is newer, so it is built next time.
const startedS = started / 1000;
utimesSync(STAMP, startedS, startedS);
process.stdout.write(`dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

#!/usr/bin/env node
// Entry point of the `gatehouse` command; the compiled CLI lives in dist/ (npm run build):
// dist/bundle/main.js (one bundle, fast start: scripts/build-server-bundle.mjs), else the
// module-per-file dist/cli/main.js it is made from.
import { existsSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// `start`: V8's optimizing compiler stays off until the server is ready, which turns it back on
// (src/shared/start-up-compiler.ts says why: idle memory). Not when the operator's own flags
// already decide about it.
const ownV8Flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
if (process.argv.slice(2).includes('start') && !/--(no-)?(opt|turbofan|jitless)\b/.test(ownV8Flags)) {
  setFlagsFromString('--no-turbofan');
  globalThis[Symbol.for('gatehouse.optimizingCompilerPausedForStart')] = true;
}

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const modules = new URL('../dist/cli/main.js', import.meta.url);
// A bundle older than the modules it was made from (tsc ran alone since) is stale: run the modules.
const bundleIsFresh = existsSync(bundle) && (!existsSync(modules) || statSync(bundle).mtimeMs >= statSync(modules).mtimeMs);
const entry = bundleIsFresh ? bundle : modules;
if (!existsSync(entry)) {
  process.stderr.write('gatehouse: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { runCli } = await import(entry.href);
const code = await runCli(process.argv.slice(2));
// `start` keeps running; every other command ends here.
if (!process.argv.slice(2).includes('start') || code !== 0) process.exitCode = code;

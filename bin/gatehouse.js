#!/usr/bin/env node
// Entry point of the `gatehouse` command; the compiled CLI lives in dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('gatehouse: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { runCli } = await import(entry.href);
const code = await runCli(process.argv.slice(2));
// `start` keeps running; every other command ends here.
if (!process.argv.slice(2).includes('start') || code !== 0) process.exitCode = code;

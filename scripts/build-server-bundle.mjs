#!/usr/bin/env node
// Bundles the compiled server (dist/cli/main.js and everything it imports of ours) with Kysely
// and TypeBox into dist/bundle/ (issue 18, start-up). Those two packages ship ~1,000 ES module
// files each, and opening, resolving and compiling ~2,900 small files was most of a cold start;
// one bundle is a handful of files. Every other package stays external (loaded from node_modules
// as before), so native modules (better-sqlite3), packages that read their own files, and the
// lazily loaded drivers (pg, ioredis, nodemailer, AWS SDK) are untouched; dynamic imports of our
// own modules become chunks loaded on first use, so lazy start-up stays lazy.
// dist/bundle/ sits at the same depth as dist/cli/, so `new URL('../../…', import.meta.url)`
// (package.json, dist/dashboard) points at the same files from the bundle as from dist/cli.
//
//   node scripts/build-server-bundle.mjs [--root <dir>]     (after tsc)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'bundle');
const BUNDLED = /^(kysely|@sinclair\/typebox)(\/|$)/;

rmSync(outDir, { recursive: true, force: true });
const started = Date.now();
await build({
  absWorkingDir: root,
  entryPoints: { main: join(root, 'dist', 'cli', 'main.js') },
  outdir: outDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [{
    name: 'external-packages-but-two',
    setup(b) {
      // A bare specifier is a package (or node: builtin): external unless it is one of the two.
      b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.test(args.path) ? undefined : { path: args.path, external: true }));
    },
  }],
});
process.stdout.write(`dist/bundle built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

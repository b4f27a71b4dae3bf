#!/usr/bin/env node
// Builds the operator dashboard (dashboard/src, Preact + TSX) into dist/dashboard/:
//   index.html              no inline script or style (the dashboard's CSP forbids both)
//   assets/main-<hash>.js   one ES module bundle, minified
//   assets/main-<hash>.css  our styles and uPlot's
//
// Why esbuild and not Vite: esbuild is already in the tree (tsx runs on it), it bundles TSX and
// CSS with hashed names in one call, and the dashboard needs no dev server of its own (the
// Gatehouse server serves it). One build tool fewer to keep patched. Nothing here touches the
// network.
//
//   node scripts/build-dashboard.mjs [--root <dir>] [--out <dir>]   (default out: <root>/dist/dashboard)
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : fileURLToPath(new URL('..', import.meta.url));
const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'dashboard');
const assetsDir = join(outDir, 'assets');

// Only our own outputs are removed: tsc may have compiled server modules into the same folder.
rmSync(assetsDir, { recursive: true, force: true });
rmSync(join(outDir, 'index.html'), { force: true });
mkdirSync(assetsDir, { recursive: true });

const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'dashboard/src/main.tsx' },
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  splitting: false,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'dashboard/tsconfig.json',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(assetsDir, join(root, p)));
const script = outputs.find((p) => p.endsWith('.js'));
const styles = outputs.filter((p) => p.endsWith('.css'));
if (!script) throw new Error('build-dashboard: esbuild produced no script');

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Gatehouse dashboard</title>
${styles.map((css) => `<link rel="stylesheet" href="/_/assets/${basename(css)}">`).join('\n')}
<script type="module" src="/_/assets/${basename(script)}"></script>
</head>
<body>
<div id="app"><noscript>The Gatehouse dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
writeFileSync(join(outDir, 'index.html'), html);
process.stdout.write(`dist/dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[script, ...styles].join(', ')}\n`);

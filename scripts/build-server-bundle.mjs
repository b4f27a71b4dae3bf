#!/usr/bin/env node
// Bundles the compiled server (dist/cli/main.js, everything it imports of ours and the pure-JS
// packages it loads at start) into dist/bundle/ (issue 18, start-up). Node 20 has no compile
// cache, and resolving, reading, lexing and compiling ~3,000 small module files (Kysely and TypeBox
// alone ~1,900 ES modules, Fastify's tree, undici, jose…) was most of a cold start; one bundle is a
// few files. Dynamic imports (ours and packages') become chunks loaded on first use, so lazy
// start-up stays lazy. What stays external, loaded from node_modules as before:
//   - native addons (better-sqlite3, @node-rs/argon2): their .node files cannot be bundled;
//   - the drivers of features the embedded default does not use (pg, ioredis, nodemailer, AWS SDK):
//     they load only when configured, and test/chassis/lazy-start-up.test.ts checks that they don't;
//   - packages that find their own files through __dirname (@fastify/swagger-ui serves its assets
//     from its folder; pino-pretty and thread-stream run worker files): ESM output has no __dirname.
// Whitespace is minified (the source string V8 keeps is a third smaller, and an all-ASCII file is
// stored one byte per character, not two); identifiers are not, so stack traces keep function
// names, and dist/bundle/*.map maps positions back. Syntax is not minified either: one package's
// start-up hung with it.
// dist/bundle/ sits at the same depth as dist/cli/, so `new URL('../../…', import.meta.url)`
// (package.json, dist/dashboard) points at the same files from the bundle as from dist/cli.
//
//   node scripts/build-server-bundle.mjs [--root <dir>]     (after tsc)
//   BUNDLE_READABLE=1 …   keeps whitespace and esbuild's `// <file>` comments, to attribute a
//                         start-up CPU profile to packages
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'bundle');
const EXTERNAL_PACKAGES = /^(better-sqlite3|@node-rs\/[^/]+|pg|pg-[a-z-]+|ioredis|nodemailer|@aws-sdk\/[^/]+|@smithy\/[^/]+|@fastify\/swagger-ui|pino-pretty|thread-stream)(\/|$)/;
const builtins = new Set(builtinModules);
// Packages that others require at load but use only on a rare path: @fastify/swagger needs yaml only
// for a YAML spec (/docs/yaml), prom-client needs the OpenTelemetry API only for exemplars (off).
// They get a stand-in that requires the real package (from node_modules) on first property read.
const LOADED_ON_FIRST_USE = new Set(['yaml', '@opentelemetry/api']);
const lazyStandIn = (name) => `let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require(${JSON.stringify(name)}))[key] });`;

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
  minifyWhitespace: !process.env.BUNDLE_READABLE,
  charset: 'ascii',
  // Bundled CommonJS packages call require() for builtins and for the external packages above;
  // ESM has no require, so each output file gets a real one.
  banner: { js: "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [{
    name: 'external-builtins-natives-and-lazy-drivers',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (LOADED_ON_FIRST_USE.has(args.path)) {
          // The stand-in's own require of the package is the real, external one.
          return args.namespace === 'lazy' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy' };
        }
        return args.path.startsWith('node:') || builtins.has(args.path) || EXTERNAL_PACKAGES.test(args.path) ? { path: args.path, external: true } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({ contents: lazyStandIn(args.path), loader: 'js', resolveDir: root }));
    },
  }],
});
process.stdout.write(`dist/bundle built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// Serves the operator dashboard (dashboard/src, built by scripts/build-dashboard.mjs) under /_/:
//   /_/assets/<name>-<hash>.<ext>  the bundle; its name changes with its content, so it is cached for a year
//   /_/ and every other /_/<path>  index.html (History API routing: a deep link is a real URL), never cached
//   /_/api/*                       not ours: the operator API; an unknown path there is a JSON 404
// Hand-written rather than @fastify/static: the whole build is a handful of files read once at start
// (no file system access with a path from the request, so no traversal to get wrong), and each
// answer needs our own headers.

/** The dashboard's own policy, stricter than the rest of the server's: no inline script or style at all. */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** dist/dashboard of this checkout, from src/dashboard (tsx) and from dist/dashboard (built) alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  map: 'application/json; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
  /** Sent to clients that accept gzip: compressed once, on the first request that accepts it (not at start). */
  gzipped(): Buffer | null;
}

interface Build {
  index: Asset;
  assets: Map<string, Asset>;
}

function asset(type: string, body: Buffer): Asset {
  let gzipped: Buffer | null | undefined;
  const compress = () => {
    const smaller = body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
    return smaller && smaller.length < body.length ? smaller : null;
  };
  return { type, body, gzipped: () => (gzipped === undefined ? (gzipped = compress()) : gzipped) };
}

/** The build in `dir`, or null when there is none (index.html missing). */
export function loadDashboardBuild(dir: string): Build | null {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) return null;
  const assets = new Map<string, Asset>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
      if (type) assets.set(name, asset(type, readFileSync(join(assetsDir, name))));
    }
  }
  return { index: asset('text/html; charset=utf-8', readFileSync(indexFile)), assets };
}

const UNBUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body>
<h1>The dashboard is not built</h1>
<p>This server has no dashboard build in dist/dashboard. Run <code>npm run build</code> in the Gatehouse folder, then restart the server.</p>
</body>
</html>
`;

function send(request: FastifyRequest, reply: FastifyReply, file: Asset, cacheControl: string): FastifyReply {
  reply.header('Content-Security-Policy', DASHBOARD_CSP).header('Cache-Control', cacheControl).header('Vary', 'Accept-Encoding').type(file.type);
  const gzipped = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) ? file.gzipped() : null;
  if (gzipped) return reply.header('Content-Encoding', 'gzip').send(gzipped);
  return reply.send(file.body);
}

export async function dashboardRoutes(app: FastifyInstance, { dir }: { dir: string }): Promise<void> {
  let build = loadDashboardBuild(dir);
  /** Built after the server started: picked up on the next request instead of needing a restart. */
  const current = () => (build ??= loadDashboardBuild(dir));
  const route = { config: { auth: 'public' as const }, schema: { hide: true } };

  app.get('/_', route, async (_request, reply) => reply.redirect('/_/', 308));

  app.get('/_/assets/:name', route, async (request, reply) => {
    const file = current()?.assets.get((request.params as { name: string }).name);
    if (!file) return reply.callNotFound();
    return send(request, reply, file, IMMUTABLE);
  });

  app.get('/_/*', route, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    // The operator API and missing assets answer as what they are (a JSON 404), never as the page.
    if (path.startsWith('/_/api/') || path === '/_/api' || path.startsWith('/_/assets/')) return reply.callNotFound();
    const loaded = current();
    if (!loaded) {
      return reply.code(503).header('Content-Security-Policy', DASHBOARD_CSP).header('Cache-Control', 'no-store')
        .type('text/html; charset=utf-8').send(UNBUILT_PAGE);
    }
    return send(request, reply, loaded.index, 'no-cache');
  });
}

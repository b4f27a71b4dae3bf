// The API docs page (@fastify/swagger-ui), loaded with the first /docs request instead of at start
// (issue 18, idle memory). Registering swagger-ui at start loaded it and its tree from node_modules
// (@fastify/static, send, glob, yaml: ~100 module files), registered a route per asset and grew V8's
// young generation; together 3–6 MB of an idle server's RSS, for a page most instances never serve.
//
// Fastify takes no routes once it is ready, so the app registers swagger-ui's routes itself (the
// same patterns: DOCS_ROUTES, which a test compares with what swagger-ui registers), and the first
// request builds a small Fastify instance holding swagger-ui exactly as the app registered it before
// (same options, same spec: `swagger()` is the app's own). Each request is handed to it with
// `inject` and its status, headers and body are answered through the app, so the app's pipeline
// (security headers, rate limits, CORS, the error dialect) applies as before; a file swagger-ui does
// not have is the app's 404, and an error in it (the spec cannot be built) the app's error, as before. Hand-written because no plugin defers another plugin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';

export interface LazyApiDocsOptions {
  /** Where the page is served (swagger-ui's `routePrefix`). */
  routePrefix: string;
  /** swagger-ui's other options, as its plugin takes them. */
  ui: Record<string, unknown>;
}

/**
 * The GET routes swagger-ui registers under its prefix (without a theme or baseDir): its page
 * ('' and '/'), the redirect, its initializer, the spec as JSON and YAML, and its files.
 */
export const DOCS_ROUTES = ['', '/', '/static/index.html', '/static/swagger-initializer.js', '/json', '/yaml', '/static/*'] as const;

/** Names each injected request, so an error inside the docs instance reaches the app's request. */
const CALL_HEADER = 'x-gatehouse-docs-call';

/** Hop-by-hop and per-response headers the app's own reply sets. */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

export function registerLazyApiDocs(app: FastifyInstance, options: LazyApiDocsOptions): void {
  let docs: Promise<FastifyInstance> | undefined;
  const failures = new Map<string, unknown>();
  let calls = 0;

  async function build(): Promise<FastifyInstance> {
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    const instance = Fastify();
    // swagger-ui depends on a plugin named @fastify/swagger for `swagger()`: this one answers with
    // the app's document (built from the app's routes), as the real one did in the app.
    const appSwagger = app.swagger.bind(app);
    await instance.register(Object.assign(async (scope: FastifyInstance) => {
      scope.decorate('swagger', appSwagger);
    }, { [Symbol.for('skip-override')]: true, [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' } }));
    // Its errors are thrown again in the app's request (serve), for the app's error handler.
    instance.setErrorHandler((error, request, reply) => {
      failures.set(String(request.headers[CALL_HEADER]), error);
      void reply.code(500).send();
    });
    await instance.register(swaggerUi, { ...options.ui, routePrefix: options.routePrefix });
    await instance.ready();
    return instance;
  }

  async function serve(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // A failed build (swagger-ui missing from node_modules) is tried again on the next request.
    const instance = await (docs ??= build().catch((error: unknown) => {
      docs = undefined;
      throw error;
    }));
    // GET for HEAD too: the app's HEAD route drops the body and keeps its length, as before.
    const call = String(++calls);
    const answer = await instance.inject({ method: 'GET', url: request.url, headers: { ...request.headers, [CALL_HEADER]: call } });
    const failure = failures.get(call);
    const failed = failures.delete(call);
    const notFound = answer.statusCode === 404;
    for (const [name, value] of Object.entries(answer.headers)) {
      // A missing file or an error keeps swagger-ui's headers (its CSP) on the app's own 404 or
      // error body, as before.
      if (value !== undefined && !NOT_COPIED.has(name) && !((notFound || failed) && name === 'content-type')) reply.header(name, value);
    }
    if (failed) throw failure;
    if (notFound) return reply.callNotFound();
    reply.code(answer.statusCode);
    // A redirect or a 304 has no body, and no content type to go with one.
    await (answer.rawPayload.length > 0 ? reply.send(answer.rawPayload) : reply.send());
  }

  // Public like every /docs route: app.ts marks them so as they are added.
  for (const route of DOCS_ROUTES) app.get(`${options.routePrefix}${route}`, { schema: { hide: true } }, serve);
  app.addHook('onClose', async () => {
    const instance = await docs?.catch(() => undefined);
    await instance?.close();
  });
}

import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { fastifyCookie } from '@fastify/cookie';
import { readFileSync } from 'node:fs';
import type { Deps } from './deps.js';
import { adminRoutes } from './admin/index.js';
import { dashboardApiRoutes } from './dashboard-api/index.js';
import { OPERATOR_SESSION_DEFAULTS } from './operators/index.js';
import { healthRoutes } from './health/routes.js';
import { dashboardRoutes, DEFAULT_DASHBOARD_DIR } from './dashboard/serve.js';
import { homeRoutes } from './home/routes.js';
import { authRoutes, recordAuthRejections } from './identity/index.js';
import { createLlmPrepareStage, llmRoutes } from './llm/index.js';
import { dataRoutes, recordDataDenials } from './data/index.js';
import { storageRoutes } from './storage/index.js';
import { createHub, realtimeRoutes } from './realtime/index.js';
import {
  addressLimitHeaders, createAccountLimitStage, createAddressLimitStage, createSubjectLimitStage,
} from './limits/index.js';
import { deferredChildLoggerFactory, logAbortedRequests, metricsRoutes, OneLineRequestLog } from './observability/index.js';
import { createOperations } from './operations/index.js';
import {
  asHook, stageChain, requestStatsStage, createAuthorizationStage, createCorsStage, createIdentifyStage, createOperatorSessionStage, genRequestId, installDrain, installErrorHandling, registerJsonBody,
  addDocumentHeaders, routeInfo, securityHeaders, stampSurfaces,
} from './http/index.js';
import { createLazySchemaCompilers, registerLazySchemas } from './http/lazy-schemas.js';
import { registerLazyApiDocs } from './http/lazy-api-docs.js';
import { SURFACES } from './surfaces.js';

export type AppDeps = Omit<Deps, 'close'>;

export interface AppOptions {
  /** Where the dashboard build is (default: dist/dashboard of this checkout); tests point it elsewhere. */
  dashboardDir?: string;
}

/**
 * The request pipeline, in Fastify's order. Every surface (declared in surfaces.ts) runs the same
 * stages; the only per-surface ones are registered with the surface, at the end of this function.
 *
 *   onRequest     headers + request id → drain (503 once shutting down) → per-IP rate limit →
 *                 CORS preflight → identify (API key, user token, live session: request.caller) →
 *                 origin check → authorize (admin group, user required, key scope) →
 *                 per-subject rate limit (user, else key, else guest IP)
 *   preParsing    /llm: provider, endpoint and content type (llm/proxy/prepare.ts)
 *   parsing       the body, by Content-Type (/llm: raw bytes and streams)
 *   preValidation per-account rate limit, on routes whose body names an account (sign-up, recovery)
 *   validation    TypeBox schema of the route
 *   handler       one service call (row rules and an admin act's own bar are decided there)
 *   onSend        CORS response headers; the per-address budget where no subject budget replaced it
 *   onError       /auth: the rejections its handlers do not record; /rest: denied rows and columns
 *   onResponse    request stats (dashboard charts: a counter in memory, stored by the background
 *                 writer); metrics: response count and duration, the outcome of sign-in, sign-up and refresh
 * Errors from any stage go to the one error handler (http/errors.ts), in the surface's dialect.
 * A refused caller (bad credential, no scope, over its limit) is answered in onRequest: its body
 * is never read.
 */
export async function buildApp(deps: AppDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const tls = config.tls;
  // Cast: Fastify's generics differ for http vs https servers and for a pino
  // instance vs its base logger type; the rest of the code needs neither.
  const schemas = createLazySchemaCompilers();
  const app = Fastify({
    schemaController: { compilersFactory: schemas.compilersFactory },
    loggerInstance: logger,
    childLoggerFactory: deferredChildLoggerFactory,
    // One line per request, at its end (observability/request-log.ts).
    logController: new OneLineRequestLog(),
    genReqId: genRequestId,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    bodyLimit: config.limits.anyBodyBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    // Our drain answers requests during shutdown (http/drain.ts), in each surface's dialect.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    ...(tls ? { https: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;

  registerLazySchemas(app, schemas);
  logAbortedRequests(app);
  app.decorateRequest('caller', null);
  app.decorateRequest('operatorSession', null);
  // The dashboard operator's session cookie (http/operator-session.ts, dashboard-api/routes.ts) is
  // read and written with @fastify/cookie's static parse and serialize, which work only once the
  // plugin has been registered (registering loads the cookie module). Registered in a scope of its
  // own with no routes: its onSend hook, which every request would otherwise run, runs on none.
  await app.register(async (cookieModuleOnly) => {
    await cookieModuleOnly.register(fastifyCookie, { hook: false });
  });
  // First: every route added after this one is stamped with its surface and the surface's defaults.
  stampSurfaces(app, SURFACES);
  installErrorHandling(app, { events: deps.events, metrics: deps.metrics, surfaces: SURFACES });
  registerJsonBody(app, { bodyBytes: config.limits.jsonBodyBytes, maxDepth: config.limits.jsonMaxDepth, maxKeys: config.limits.jsonMaxKeys });

  // Docs and spec are public; mark them before their plugin adds its routes,
  // since an unmarked route needs a key (fail closed).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), auth: 'public', documentHeaders: true };
  });

  const cors = createCorsStage({ projects: deps.projects, allOrigins: () => deps.projects.allCorsOrigins(), events: deps.events, clock: deps.clock });
  const headers = securityHeaders({ tls: Boolean(tls) });
  const limitStageDeps = { rateLimits: deps.rateLimits, clock: deps.clock, metrics: deps.metrics, events: deps.events };
  // The onRequest stages, in this order, run as one hook (http/hook.ts stageChain says why).
  app.addHook('onRequest', stageChain([
    (request, reply) => {
      reply.headers(headers.always).header('X-Request-Id', request.id);
    },
    // During shutdown every request is refused here, before it touches a store.
    installDrain(app, { tls: Boolean(tls) }),
    // Before the key is looked at: a flood of missing or invalid keys is limited by address.
    createAddressLimitStage(limitStageDeps),
    cors.preflight,
    // ORDER: identify right after the preflight, before anything that can answer otherwise (origin
    // check, authorization, limits, a surface's preParsing stage, the body parser): a caller whose
    // credentials fail hears 401 and nothing else, so a bad or stolen-and-revoked token cannot probe
    // which providers, endpoints or content types exist, nor leave security events of its own behind.
    createIdentifyStage({
      apiKeys: deps.apiKeys, userTokens: deps.identity.userTokens, events: deps.events, metricsToken: config.metricsToken, auth: deps.metrics.auth,
      operatorSessions: createOperatorSessionStage({ operators: deps.operators, events: deps.events, publicUrl: config.publicUrl }),
    }),
    cors.checkOrigin,
    createAuthorizationStage(deps),
    // ORDER: after identify, which sets the user and group; before it, every user would be counted
    // by key/IP and at the guest tier. Still in onRequest: a refused request never reaches the parser.
    createSubjectLimitStage(limitStageDeps),
  ]));
  // Only the routes that name an account get this stage: every other request skips a hook runner.
  const limitAccount = asHook(createAccountLimitStage(limitStageDeps));
  app.addHook('onRoute', (route) => {
    if (!route.config?.rateLimitAccount) return;
    const own = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [limitAccount, ...own];
  });
  // Both onResponse stages in one hook (as onRequest's: one runner's bookkeeping, not two).
  const countResponse = requestStatsStage(deps.stats);
  const recordResponse = deps.metrics.enabled ? deps.metrics.http.responseStage((path) => SURFACES.forPath(path).name, deps.metrics.auth) : undefined;
  app.addHook('onResponse', asHook((request, reply) => {
    countResponse(request, reply);
    recordResponse?.(request, reply);
  }));
  app.addHook('onSend', (request, reply, payload, done) => {
    // Page-protecting headers only on pages (HTML, and every /docs response): not on JSON answers.
    addDocumentHeaders(reply, headers.document, routeInfo(request).config.documentHeaders === true);
    addressLimitHeaders(request, reply);
    const pending = cors.decorate(request, reply);
    if (pending) pending.then(() => done(null, payload), (error: Error) => done(error));
    else done(null, payload);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Gatehouse', version: '1', description: 'Secure backend for apps and AI apps. The contract: docs/api.md in the repository.' },
      components: {
        securitySchemes: {
          apikey: { type: 'apiKey', in: 'header', name: 'apikey' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apikey: [] }],
    },
  });
  // swagger-ui loads with the first /docs request (http/lazy-api-docs.ts says why).
  registerLazyApiDocs(app, { routePrefix: '/docs', ui: { staticCSP: true } });
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  // The surfaces, with their own stages (ops: home page, health, metrics and docs above).
  await app.register(homeRoutes);
  await app.register(dashboardRoutes, { dir: options.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
  await app.register(healthRoutes, { storage: deps.storage });
  if (deps.metrics.enabled) await app.register(metricsRoutes, { metrics: deps.metrics });
  const operations = createOperations(deps, { onCorsChange: () => cors.invalidate() });
  await app.register(adminRoutes, { prefix: '/admin/v1', operations });
  await app.register(dashboardApiRoutes, {
    prefix: '/_/api', operators: deps.operators, operations, projects: deps.projects,
    secureCookie: Boolean(tls) || Boolean(config.publicUrl?.startsWith('https://')), sessionMaxSeconds: OPERATOR_SESSION_DEFAULTS.sessionMaxSeconds,
  });
  await app.register(async (auth) => {
    auth.addHook('onError', recordAuthRejections(deps.events));
    await auth.register(authRoutes, { identity: deps.identity, projects: deps.projects, clock: deps.clock });
  }, { prefix: '/auth/v1' });
  await app.register(async (llm) => {
    llm.addHook('preParsing', createLlmPrepareStage({ anyBodyBytes: config.limits.anyBodyBytes, events: deps.events, llm: deps.llm }));
    await llm.register(llmRoutes, { config, events: deps.events, llm: deps.llm, clock: deps.clock });
  });
  await app.register(async (rest) => {
    rest.addHook('onError', recordDataDenials(deps.events));
    await rest.register(dataRoutes, { data: deps.data, metrics: deps.metrics.data });
  }, { prefix: '/rest/v1' });
  await app.register(storageRoutes, { prefix: '/storage/v1', storage: deps.files, maxObjectBytes: config.storage.maxObjectBytes });
  await app.register(realtimeRoutes, {
    prefix: '/realtime/v1', feed: deps.realtime.feed, hub: createHub({ bus: deps.realtime.bus, logger, clock: deps.clock }), settings: deps.realtimeChannels,
    apiKeys: deps.apiKeys, userTokens: deps.identity.userTokens, events: deps.events, limits: config.realtime, clock: deps.clock, logger,
  });
  return app;
}

import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import type { Deps } from './deps.js';
import { adminRoutes } from './admin/index.js';
import { healthRoutes } from './health/routes.js';
import { authRoutes } from './identity/index.js';
import { llmRoutes } from './llm/index.js';
import { dataRoutes } from './data/index.js';
import { addressLimitHeaders, createAddressLimitStage, createResponseCounter, createSubjectLimitStage } from './limits/index.js';
import { deferredChildLoggerFactory, metricsRoutes } from './observability/index.js';
import {
  asHook, createAuthorizationStage, createCallerStage, createCorsStage, genRequestId, installDrain, installErrorHandling, registerJsonBody, securityHeaders,
} from './http/index.js';

export type AppDeps = Omit<Deps, 'close'>;

/**
 * The request pipeline, in Fastify's order (STYLE.md §2):
 *   onRequest     request id header → drain (503 once shutting down) → per-IP rate limit → CORS preflight → caller (API key) → user token
 *                 (identity) → origin check
 *   preParsing    route stages that need no body (the LLM proxy's provider and endpoint checks)
 *   parsing       the body, by Content-Type
 *   preValidation per-subject rate limit (user, else key, else guest IP)
 *   validation    TypeBox schema of the route
 *   preHandler    authorization: admin-only routes, key scopes
 *   handler       one service call
 *   onSend        CORS response headers; the per-address budget where no subject budget replaced it
 * Errors from any stage go to the one error handler (http/errors.ts).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const tls = config.tls;
  // Cast: Fastify's generics differ for http vs https servers and for a pino
  // instance vs its base logger type; the rest of the code needs neither.
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: deferredChildLoggerFactory,
    genReqId: genRequestId,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    bodyLimit: config.limits.anyBodyBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    // Our drain answers requests during shutdown (http/drain.ts), in each surface's dialect.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    ...(tls ? { https: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;

  app.decorateRequest('caller', null);
  installErrorHandling(app, deps);
  registerJsonBody(app, { bodyBytes: config.limits.jsonBodyBytes, maxDepth: config.limits.jsonMaxDepth, maxKeys: config.limits.jsonMaxKeys });

  // Docs and spec are public; mark them before their plugin adds its routes,
  // since an unmarked route needs a key (fail closed).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), auth: 'public' };
  });

  const cors = createCorsStage({ projects: deps.projects, allOrigins: () => deps.projects.allCorsOrigins(), events: deps.events, clock: deps.clock });
  const headers = securityHeaders({ tls: Boolean(tls) });
  app.addHook('onRequest', asHook((request, reply) => {
    reply.headers(headers).header('X-Request-Id', request.id);
  }));
  // During shutdown every request is refused here, before it touches a store.
  installDrain(app, { tls: Boolean(tls) });
  const limitStageDeps = { rateLimits: deps.rateLimits, clock: deps.clock, metrics: deps.metrics, events: deps.events };
  // Before the key is looked at: a flood of missing or invalid keys is limited by address.
  app.addHook('onRequest', createAddressLimitStage(limitStageDeps));
  app.addHook('onRequest', asHook(cors.preflight));
  app.addHook('onRequest', createCallerStage(deps));
  // User token (Authorization: Bearer <JWT>) → request.caller.user; a bad token is 401 everywhere.
  // ORDER: right after the key, before anything that can answer otherwise (origin check, a
  // route's preParsing stage, the body parser): a caller whose credentials fail hears 401 and
  // nothing else, so a bad or stolen-and-revoked token cannot probe which providers, endpoints
  // or content types exist, nor leave security events of its own behind.
  app.addHook('onRequest', deps.identity.userTokenStage);
  app.addHook('onRequest', asHook(cors.checkOrigin));
  // ORDER: must stay AFTER the user-token hook (identity), which sets request.caller.user and
  // group; run before it, every user would be counted by key/IP and at the guest tier. Fastify
  // runs onRequest hooks before preValidation ones, and hooks of one phase in registration order.
  app.addHook('preValidation', createSubjectLimitStage(limitStageDeps));
  app.addHook('preHandler', asHook(createAuthorizationStage(deps)));
  app.addHook('onResponse', asHook(createResponseCounter(deps)));
  app.addHook('onSend', (request, reply, payload, done) => {
    addressLimitHeaders(request, reply);
    const pending = cors.decorate(request, reply);
    if (pending) pending.then(() => done(null, payload), (error: Error) => done(error));
    else done(null, payload);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Gatehouse', version: '1', description: 'Secure backend for apps and AI apps. See API.md.' },
      components: {
        securitySchemes: {
          apikey: { type: 'apiKey', in: 'header', name: 'apikey' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apikey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { storage: deps.storage });
  await app.register(metricsRoutes, { metrics: deps.metrics, apiKeys: deps.apiKeys, events: deps.events, token: config.metricsToken });
  await app.register(adminRoutes, { prefix: '/admin/v1', deps, cors });
  await app.register(authRoutes, { prefix: '/auth/v1', identity: deps.identity, events: deps.events });
  await app.register(llmRoutes, { deps });
  await app.register(dataRoutes, { prefix: '/rest/v1', data: deps.data, events: deps.events });
  return app;
}

import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ROUTES, registerLazyApiDocs } from './lazy-api-docs.js';

// The lazy docs must be indistinguishable from swagger-ui registered at start: the same routes and,
// request by request, the same status, headers and body (app.ts registered it eagerly before).
async function appWith(docs: 'eager' | 'lazy', brokenSpec = false): Promise<{ app: FastifyInstance }> {
  const app = Fastify();
  // The app's own error answer, which a docs error must reach as before.
  app.setErrorHandler((error: Error, _request, reply) => reply.code(500).send({ ours: true, message: error.message }));
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 'docs test', version: '1' } },
    ...(brokenSpec ? { transform: () => { throw new Error('this spec cannot be built'); } } : {}),
  });
  if (docs === 'eager') await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  else registerLazyApiDocs(app, { routePrefix: '/docs', ui: { staticCSP: true } });
  app.get('/things/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string' } } } } }, async () => ({ ok: true }));
  await app.ready();
  return { app };
}

const IGNORED = new Set(['date', 'connection', 'keep-alive']);
async function answer(app: FastifyInstance, request: InjectOptions) {
  const response = await app.inject(request);
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !IGNORED.has(name)));
  return { status: response.statusCode, headers, body: response.body };
}

describe('API docs loaded on first use', () => {
  let eager: Awaited<ReturnType<typeof appWith>>;
  let lazy: Awaited<ReturnType<typeof appWith>>;
  beforeAll(async () => {
    eager = await appWith('eager');
    lazy = await appWith('lazy');
  });
  afterAll(async () => {
    await eager.app.close();
    await lazy.app.close();
  });

  it('registers the routes swagger-ui registers, methods included', () => {
    // @fastify/static lists its methods as (HEAD, GET): the order is not behaviour.
    const table = (app: FastifyInstance) => app.printRoutes({ commonPrefix: false }).replace(/\(([^)]*)\)/g, (_, methods: string) => `(${methods.split(', ').sort().join(', ')})`);
    expect(table(lazy.app)).toEqual(table(eager.app));
    for (const route of DOCS_ROUTES) {
      for (const { app } of [eager, lazy]) expect(app.hasRoute({ method: 'GET', url: `/docs${route}` })).toBe(true);
    }
  });

  it('answers every docs request as swagger-ui does: page, spec, files, redirect, conditional, range, 404s', async () => {
    const etag = (await eager.app.inject({ url: '/docs/static/index.css' })).headers.etag as string;
    expect(etag).toBeTruthy();
    const requests: InjectOptions[] = [
      { url: '/docs' }, { url: '/docs/' }, { url: '/docs/?x=1' }, { method: 'HEAD', url: '/docs/' },
      { url: '/docs/json' }, { url: '/docs/yaml' }, { url: '/docs/static/index.html' },
      { url: '/docs/static/swagger-initializer.js' }, { url: '/docs/static/index.css' }, { method: 'HEAD', url: '/docs/static/index.css' },
      { url: '/docs/static/index.css', headers: { 'if-none-match': etag } },
      { url: '/docs/static/index.css', headers: { range: 'bytes=0-9' } },
      // Refusals: a file swagger-ui lacks, a path outside its folder, a route it lacks, a method it lacks.
      { url: '/docs/static/missing.js' }, { url: '/docs/static/..%2f..%2fpackage.json' }, { url: '/docs/nope' }, { method: 'POST', url: '/docs/json' },
    ];
    for (const request of requests) {
      const expected = await answer(eager.app, request);
      expect({ request, ...(await answer(lazy.app, request)) }).toEqual({ request, ...expected });
    }
    // The comparison saw real answers: the page, the spec with the app's route, a 304 and a 404.
    expect((await answer(lazy.app, { url: '/docs/json' })).body).toContain('/things/{id}');
    expect((await answer(lazy.app, { url: '/docs/' })).body).toContain('swagger');
    expect((await answer(lazy.app, { url: '/docs/static/index.css', headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await answer(lazy.app, { url: '/docs/static/missing.js' })).status).toBe(404);
  });

  it("an error inside swagger-ui (the spec cannot be built) is the app's error answer, as before", async () => {
    const broken = { eager: await appWith('eager', true), lazy: await appWith('lazy', true) };
    try {
      for (const url of ['/docs/json', '/docs/yaml']) {
        const expected = await answer(broken.eager.app, { url });
        expect(expected.status).toBe(500);
        expect(JSON.parse(expected.body)).toEqual({ ours: true, message: 'this spec cannot be built' });
        expect(await answer(broken.lazy.app, { url })).toEqual(expected);
      }
      // The page itself needs no spec and is still served.
      expect((await answer(broken.lazy.app, { url: '/docs/' })).status).toBe(200);
    } finally {
      await broken.eager.app.close();
      await broken.lazy.app.close();
    }
  });
});

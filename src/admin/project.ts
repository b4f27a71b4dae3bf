import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actingOf, type AdminContext } from './context.js';

const Environment = Type.Object({ name: Type.String(), cors_origins: Type.Array(Type.String()) });

export async function projectRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: project'];

  r.get('/project', {
    config: { auth: 'secret', scope: 'admin:project', routeClass: 'admin' },
    schema: {
      tags,
      summary: 'The project and environment this key belongs to',
      response: { 200: Type.Object({ id: Type.String(), name: Type.String(), created_at: Type.String(), environment: Type.String(), environments: Type.Array(Environment) }) },
    },
  }, async (request) => {
    const ctx = actingOf(request);
    // A key administers its own environment only: it sees its own settings, not its siblings'.
    const project = await operations.project.get(ctx);
    return {
      id: project.id, name: project.name, created_at: project.createdAt, environment: ctx.environment,
      environments: project.environments.map((e) => ({ name: e.name, cors_origins: e.corsOrigins })),
    };
  });

  r.put('/environment/cors', {
    config: { auth: 'secret', scope: 'admin:settings', routeClass: 'admin' },
    schema: {
      tags,
      summary: 'Replace the CORS allowlist of this environment',
      body: Type.Object({ origins: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 }) }, { additionalProperties: false }),
      response: { 200: Environment },
    },
  }, async (request) => {
    const ctx = actingOf(request);
    return { name: ctx.environment, cors_origins: await operations.project.setCorsOrigins(ctx, request.body.origins) };
  });
}

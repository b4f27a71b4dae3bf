import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import { actorOf, callerOf, type AdminContext } from './context.js';

const Environment = Type.Object({ name: Type.String(), cors_origins: Type.Array(Type.String()) });

export async function projectRoutes(app: FastifyInstance, { deps, cors }: AdminContext): Promise<void> {
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
    const caller = callerOf(request);
    const project = await deps.projects.get(caller.projectId);
    if (!project) throw new GatehouseError('not_found');
    return {
      id: project.id, name: project.name, created_at: project.createdAt, environment: caller.environment,
      // A key administers its own environment only: it sees its own settings, not its siblings'.
      environments: project.environments.filter((e) => e.name === caller.environment).map((e) => ({ name: e.name, cors_origins: e.corsOrigins })),
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
    const caller = callerOf(request);
    await deps.projects.setCorsOrigins(caller.projectId, caller.environment, request.body.origins, { production: deps.config.mode === 'production' });
    cors.invalidate();
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'environment.cors.update', details: { origins: request.body.origins } });
    return { name: caller.environment, cors_origins: await deps.projects.corsOrigins(caller.projectId, caller.environment) };
  });
}

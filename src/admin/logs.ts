import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actingOf, type AdminContext } from './context.js';

const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });

export async function logRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: logs'];

  r.get('/security-events', {
    config: { auth: 'secret', scope: 'admin:logs', routeClass: 'admin' },
    schema: {
      tags,
      summary: 'Security events of this environment, newest first',
      querystring: Type.Object({ ...Page.properties, type: Type.Optional(Type.String({ pattern: '^[a-z_]{1,64}$' })) }, { additionalProperties: false }),
    },
  }, async (request) => ({ events: await operations.logs.securityEvents(actingOf(request), request.query) }));

  r.get('/audit-log', {
    config: { auth: 'secret', scope: 'admin:logs', routeClass: 'admin' },
    schema: { tags, summary: 'Administrative changes of this environment, newest first', querystring: Page },
  }, async (request) => ({ entries: await operations.logs.auditLog(actingOf(request), request.query) }));
}

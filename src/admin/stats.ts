import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { STATS_METRICS } from '../operations/index.js';
import { actingOf, type AdminContext } from './context.js';

export async function statsRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/stats/series', {
    config: { auth: 'secret', scope: 'admin:stats', routeClass: 'admin' },
    schema: {
      tags: ['admin: stats'],
      summary: 'One metric of this environment over time: requests, errors (4xx and 5xx), rate_limited (429), llm_tokens, active_users',
      querystring: Type.Object({
        metric: Type.Union(STATS_METRICS.map((m) => Type.Literal(m))),
        from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date-time; default: 24 hours before to' })),
        to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date-time; default: now' })),
        step: Type.Optional(Type.Integer({ description: 'Seconds per point: a multiple of 60 (300 for active_users), at most 86400; default 3600' })),
      }, { additionalProperties: false }),
    },
  }, async (request) => operations.stats.series(actingOf(request), request.query));
}

// GET /metrics: Prometheus text, never public (docs/api.md). An ordinary route: the identify and
// authorization stages let in
//   - `Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>`, compared in constant time: what a
//     Prometheus scrape config can send (`metricsToken`);
//   - a secret key whose scopes name `admin:metrics` explicitly (`scopeGrant: 'named'`). An
//     unscoped secret key is full admin of ONE project, while these counters describe the whole
//     process (every tenant's traffic), so project admin alone is not enough.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export const METRICS_SCOPE = 'admin:metrics';

export interface MetricsRouteOptions {
  metrics: Metrics;
}

export async function metricsRoutes(app: FastifyInstance, { metrics }: MetricsRouteOptions): Promise<void> {
  app.get('/metrics', {
    config: { auth: 'key', scope: METRICS_SCOPE, scopeGrant: 'named', metricsToken: true, routeClass: 'admin' },
    schema: { tags: ['operations'], summary: 'Prometheus metrics (metrics token or a secret key with admin:metrics)', hide: false },
  }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('Cache-Control', 'no-store').type(metrics.registry.contentType).send(body);
  });
}

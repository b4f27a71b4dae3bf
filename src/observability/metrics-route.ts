// GET /metrics: Prometheus text, never public (docs/api.md). An ordinary route: the identify and
// authorization stages let in
//   - `Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>`, compared in constant time: what a
//     Prometheus scrape config can send (`metricsToken`);
//   - a secret key that holds `admin:metrics` (`scopeGrant: 'secret'`): an unscoped secret key
//     holds every scope, as everywhere else, and a scoped one must list it (or a wildcard over
//     it). The counters carry no tenant (route class and status only), so a project's admin
//     learns totals, never another project's traffic. A publishable key never reads them.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export const METRICS_SCOPE = 'admin:metrics';

export interface MetricsRouteOptions {
  metrics: Metrics;
}

export async function metricsRoutes(app: FastifyInstance, { metrics }: MetricsRouteOptions): Promise<void> {
  app.get('/metrics', {
    config: { auth: 'key', scope: METRICS_SCOPE, scopeGrant: 'secret', metricsToken: true, routeClass: 'admin' },
    schema: { tags: ['operations'], summary: 'Prometheus metrics (metrics token or a secret key with admin:metrics)', hide: false },
  }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('Cache-Control', 'no-store').type(metrics.registry.contentType).send(body);
  });
}

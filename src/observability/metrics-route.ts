// GET /metrics: Prometheus text, never public (API.md). Two ways in:
//   - `Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>`, compared in constant time: what a
//     Prometheus scrape config can send;
//   - a secret key whose scopes name `admin:metrics` explicitly. An unscoped secret key is full
//     admin of ONE project, while these counters describe the whole process (every tenant's
//     traffic), so project admin alone is not enough.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { timingSafeEqualString } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import { hasScope, type ApiKeyService } from '../identity/api-keys/index.js';
import { bearerToken, presentedKey } from '../http/index.js';
import type { Metrics } from './metrics.js';
import type { SecurityEvents } from './security-events.js';

export const METRICS_SCOPE = 'admin:metrics';

export interface MetricsRouteOptions {
  metrics: Metrics;
  apiKeys: ApiKeyService;
  events: SecurityEvents;
  /** GATEHOUSE_METRICS_TOKEN; absent: only scoped secret keys get in. */
  token: string | undefined;
}

export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { metrics, apiKeys, events, token } = options;

  async function authorize(request: FastifyRequest): Promise<void> {
    const key = presentedKey(request);
    if (key) {
      const verified = await apiKeys.verify(key);
      if (verified.kind === 'secret' && verified.scopes !== null && hasScope(verified.scopes, METRICS_SCOPE)) return;
      events.record('api_key_scope_denied', {
        projectId: verified.projectId, environment: verified.environment, ip: request.ip, requestId: request.id,
        details: { needed: METRICS_SCOPE, key_id: verified.id, route: '/metrics' },
      });
      throw new GatehouseError('insufficient_scope', {
        message: `/metrics needs a secret key with the scope ${METRICS_SCOPE}, or the metrics token.`,
        details: { required_scope: METRICS_SCOPE },
      });
    }
    const bearer = bearerToken(request);
    if (bearer !== undefined && token !== undefined && timingSafeEqualString(bearer, token)) return;
    events.record('token_rejected', { ip: request.ip, requestId: request.id, details: { route: '/metrics', reason: bearer ? 'mismatch' : 'missing' } });
    throw new GatehouseError(bearer ? 'invalid_token' : 'missing_api_key');
  }

  app.get('/metrics', {
    // `public` only to the caller stage (it would refuse a bearer token that is not a key);
    // the handler authorizes, and nothing is sent before it has.
    config: { auth: 'public', routeClass: 'admin' },
    schema: { tags: ['operations'], summary: 'Prometheus metrics (metrics token or a secret key with admin:metrics)', hide: false },
  }, async (request, reply) => {
    await authorize(request);
    const body = await metrics.registry.metrics();
    return reply.header('Cache-Control', 'no-store').type(metrics.registry.contentType).send(body);
  });
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SurfaceTable } from '../access/index.js';
import { GatehouseError, isServiceUnavailable, renderError, retryAfterOf, toGatehouseError } from '../errors/index.js';
import { noteFailure, type Metrics, type SecurityEvents } from '../observability/index.js';
import { routeInfo } from './route-info.js';
import { errorDialectOf } from './surface.js';

// Client faults that say something about who is probing us.
const SUSPICIOUS = new Set(['invalid_json', 'json_too_complex', 'payload_too_large', 'unsupported_media_type', 'route_not_found', 'bad_request']);

/** The one place errors become HTTP: status from the codes table, body in the surface's dialect. */
export function installErrorHandling(app: FastifyInstance, { events, metrics, surfaces }: { events: SecurityEvents; metrics: Metrics; surfaces: SurfaceTable }): void {
  app.setErrorHandler(async (raw: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const error = toGatehouseError(raw);
    noteFailure(request, error.code);
    if (error.code === 'service_unavailable' || error.code === 'upstream_busy') {
      // Expected and transient (a backing service down, a full queue, a drain, a provider origin at
      // its in-flight limit): the store that failed logged the outage once (shared/outage-log.ts);
      // a stack trace per request would bury it, and a flood past the limit would flood the log.
      const service = isServiceUnavailable(error) ? error.service : undefined;
      if (service) metrics.serviceUnavailable.inc({ service });
      request.log.info({ code: error.code, status: error.status, service }, 'request refused: unavailable');
    } else if (error.status >= 500) {
      request.log.error({ err: error.cause ?? raw, code: error.code }, 'request failed');
    } else {
      request.log.info({ code: error.code, status: error.status }, 'request rejected');
      if (SUSPICIOUS.has(error.code) || error.code === 'validation_failed') {
        events.record('malformed_request', {
          projectId: request.caller?.projectId,
          environment: request.caller?.environment,
          ip: request.ip,
          requestId: request.id,
          details: { code: error.code, method: request.method, route: routeInfo(request).url ?? null },
        });
      }
    }
    if (error.headers) reply.headers(error.headers);
    const retryAfterS = retryAfterOf(error);
    if (retryAfterS !== undefined) reply.header('Retry-After', String(retryAfterS));
    if (error.status === 401 && !reply.hasHeader('WWW-Authenticate')) reply.header('WWW-Authenticate', 'Bearer realm="gatehouse"');
    // A failed request may have half-set headers of its handler; the error body is always JSON.
    return reply.code(error.status).type('application/json; charset=utf-8').send(renderError(errorDialectOf(request, surfaces), error, request.id));
  });

  app.setNotFoundHandler(async (request) => {
    throw new GatehouseError('route_not_found', { message: `No route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.` });
  });
}

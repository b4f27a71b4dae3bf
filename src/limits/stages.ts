// The two pipeline stages (STYLE.md §2):
//   onRequest      limitAddress  per client IP, before the API key is looked at, so floods of
//                                missing or invalid keys are limited by address;
//   preValidation  limitSubject  per user / key / guest IP and route class, once the caller (and
//                                the user token) are known.
// A refusal throws GatehouseError and the one error handler renders it in the surface's dialect
// (GoTrue on /auth, PostgREST on /rest, the provider's on /llm).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import { routeInfo } from '../http/route-info.js';
import type { Metrics, SecurityEvents } from '../observability/index.js';
import type { Clock } from '../shared/clock.js';
import { ADDRESS_CLASS, type LimitResult } from './decide.js';
import type { RouteClass } from './policy.js';
import type { RateLimits } from './service.js';
import { limiterUnavailable } from './unavailable.js';

/**
 * A route's class: what it declares (`config.routeClass`), else derived from its path, so a route
 * someone forgot to mark is still limited, under the class of its surface.
 */
export function routeClassOf(request: FastifyRequest): RouteClass {
  const route = routeInfo(request);
  return route.config?.routeClass ?? routeClassForPath(request.method, route.url ?? request.url);
}

export function routeClassForPath(method: string, path: string): RouteClass {
  if (path.startsWith('/auth/')) return 'auth';
  if (path.startsWith('/llm/')) return 'llm';
  if (path.startsWith('/rest/')) return method === 'GET' || method === 'HEAD' ? 'data_read' : 'data_write';
  if (path.startsWith('/admin/')) return 'admin';
  return 'default';
}

export interface LimitStageDeps {
  rateLimits: RateLimits;
  clock: Clock;
  metrics: Pick<Metrics, 'rateLimited'>;
  events: SecurityEvents;
}

function createRefusal({ metrics, events }: LimitStageDeps) {
  return function refuse(request: FastifyRequest, result: LimitResult, routeClass: string, subject: string): never {
    if (result.unavailable) throw limiterUnavailable('Rate limiting');
    metrics.rateLimited.inc({ route_class: routeClass });
    // Throttled by the security events (one per subject and class a minute): a flood must not become a flood of rows.
    events.record('rate_limited', {
      projectId: request.caller?.projectId, environment: request.caller?.environment, ip: request.ip, requestId: request.id,
      details: { route_class: routeClass, subject, route: routeInfo(request).url ?? null },
      subject: `${routeClass}|${subject}`,
    });
    const retryAfterS = result.retryAfterS ?? 1;
    throw new GatehouseError('rate_limit_exceeded', {
      message: `Too many requests: retry after ${retryAfterS} second${retryAfterS === 1 ? '' : 's'}.`,
      retryAfterS,
      headers: result.headers,
    });
  };
}

/** The address check's result, until the subject check replaces it (see addressLimitHeaders). */
const ADDRESS_RESULT = Symbol('gatehouse.addressLimit');
type WithAddressResult = FastifyRequest & { [ADDRESS_RESULT]?: LimitResult | null };

export function createAddressLimitStage(deps: LimitStageDeps) {
  const refuse = createRefusal(deps);
  return async function limitAddress(request: FastifyRequest): Promise<void> {
    const result = await deps.rateLimits.checkAddress(request.ip, deps.clock.nowMs());
    if (result.allowed) (request as WithAddressResult)[ADDRESS_RESULT] = result;
    else refuse(request, result, ADDRESS_CLASS, 'address');
  };
}

/**
 * onSend: a response that no subject check answered for (public route, bad key, 404, preflight)
 * still tells the client its address budget. Keyed requests show the subject's own headers, so
 * the address headers are built only when they are shown.
 */
export function addressLimitHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const result = (request as WithAddressResult)[ADDRESS_RESULT];
  if (result && !reply.hasHeader('RateLimit')) reply.headers(result.headers);
}

export function createSubjectLimitStage(deps: LimitStageDeps) {
  const refuse = createRefusal(deps);
  return async function limitSubject(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = request.caller;
    // No caller: a public route, limited by address only (there is no project to count in).
    if (!caller) return;
    const routeClass = routeClassOf(request);
    const account = routeInfo(request).config?.rateLimitAccount?.(request);
    const result = await deps.rateLimits.checkCaller({
      projectId: caller.projectId,
      environment: caller.environment,
      routeClass,
      tier: caller.group,
      userId: caller.user?.id,
      keyId: caller.key.id,
      keyIsShared: caller.key.kind === 'publishable',
      ip: request.ip,
      account,
      nowMs: deps.clock.nowMs(),
    });
    if (result.allowed) {
      reply.headers(result.headers);
      return;
    }
    refuse(request, result, routeClass, result.subject ?? (caller.user ? `user:${caller.user.id}` : `key:${caller.key.id}`));
  };
}

/** onResponse: every response counted by route class and status (bounded labels only). */
export function createResponseCounter({ metrics }: { metrics: Pick<Metrics, 'requests'> }) {
  return function countResponse(request: FastifyRequest, reply: FastifyReply): void {
    metrics.requests.inc({ route_class: routeInfo(request).url ? routeClassOf(request) : 'unmatched', status: String(reply.statusCode) });
  };
}

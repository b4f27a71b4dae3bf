// The pipeline stages of rate limiting:
//   onRequest      limitAddress  per client IP, before the API key is looked at, so floods of
//                                missing or invalid keys are limited by address;
//   onRequest      limitSubject  per user / key / guest IP and route class, once the caller (and
//                                the user token) are known, before any body is read: a refused
//                                request costs no upload and no parse;
//   preValidation  limitAccount  routes that name an account in their body (sign-up, recovery):
//                                the caller's counter and the account's, once the body is parsed.
// A refusal throws GatehouseError and the one error handler renders it in the surface's dialect
// (GoTrue on /auth, PostgREST on /rest, the provider's on /llm).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import { routeInfo } from '../http/route-info.js';
import type { Metrics, SecurityEvents } from '../observability/index.js';
import type { Clock } from '../shared/clock.js';
import { ADDRESS_CLASS, isPending, type LimitResult } from './decide.js';
import type { RouteClass } from './policy.js';
import type { RateLimits } from './service.js';
import { limiterUnavailable } from './unavailable.js';

/**
 * A route's class: what it declares, else its surface's (stamped on every route at start), so a
 * route someone forgot to mark is still limited, under the class of its surface.
 */
export function routeClassOf(request: FastifyRequest): RouteClass {
  return routeInfo(request).config.routeClass ?? 'default';
}

export interface LimitStageDeps {
  rateLimits: RateLimits;
  clock: Clock;
  metrics: Pick<Metrics, 'rateLimited' | 'limits'>;
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

/**
 * A stage of the onRequest chain (http/hook.ts): on the memory store the check is answered at
 * once and the request moves on without a promise; with Redis it returns one, for the reply.
 */
export function createAddressLimitStage(deps: LimitStageDeps) {
  const refuse = createRefusal(deps);
  function settle(request: FastifyRequest, result: LimitResult): void {
    deps.metrics.limits.decision(ADDRESS_CLASS, ADDRESS_CLASS, result.allowed);
    if (result.allowed) (request as WithAddressResult)[ADDRESS_RESULT] = result;
    else refuse(request, result, ADDRESS_CLASS, 'address');
  }
  return function limitAddress(request: FastifyRequest): void | Promise<void> {
    // Probes opt out (see FastifyContextConfig.addressLimit); they are public and read nothing.
    if (routeInfo(request).config.addressLimit === false) return;
    const answer = deps.rateLimits.checkAddress(request.ip, deps.clock.nowMs());
    if (isPending(answer)) return answer.then((result) => settle(request, result));
    settle(request, answer);
  };
}

/**
 * onSend: a response that no subject check answered for (public route, bad key, 404, preflight)
 * still tells the client its address budget. Keyed requests show the subject's own headers, so
 * the address headers are built only when they are shown.
 */
export function addressLimitHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const result = (request as WithAddressResult)[ADDRESS_RESULT];
  // Either family marks a subject check's own headers (limits.rateLimitHeaders picks which are sent).
  if (result && !reply.hasHeader('X-RateLimit-Limit') && !reply.hasHeader('RateLimit')) reply.headers(result.headers);
}

function createSubjectCheck(deps: LimitStageDeps) {
  const refuse = createRefusal(deps);
  function settle(request: FastifyRequest, reply: FastifyReply, result: LimitResult, routeClass: string): void {
    const caller = request.caller!;
    deps.metrics.limits.decision(routeClass, result.tier ?? caller.group, result.allowed);
    if (result.allowed) {
      reply.headers(result.headers);
      return;
    }
    refuse(request, result, routeClass, result.subject ?? (caller.user ? `user:${caller.user.id}` : `key:${caller.key.id}`));
  }
  return function checkSubject(request: FastifyRequest, reply: FastifyReply, account: string | undefined): void | Promise<void> {
    const caller = request.caller;
    // No caller: a public route, limited by address only (there is no project to count in).
    if (!caller) return;
    const routeClass = routeClassOf(request);
    const answer = deps.rateLimits.checkCaller({
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
    if (isPending(answer)) return answer.then((result) => settle(request, reply, result, routeClass));
    settle(request, reply, answer, routeClass);
  };
}

/** onRequest, after identify and authorize: the caller's counter, before any body is read. */
export function createSubjectLimitStage(deps: LimitStageDeps) {
  const checkSubject = createSubjectCheck(deps);
  return function limitSubject(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    // A route that names an account is counted once its body is parsed (limitAccount): the
    // account counter runs only after the caller's has room, in one check.
    if (routeInfo(request).config.rateLimitAccount) return;
    return checkSubject(request, reply, undefined);
  };
}

/** preValidation: routes that name an account (sign-up, recovery): the caller's counter, then the account's. */
export function createAccountLimitStage(deps: LimitStageDeps) {
  const checkSubject = createSubjectCheck(deps);
  return function limitAccount(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    const named = routeInfo(request).config.rateLimitAccount;
    if (!named) return;
    return checkSubject(request, reply, named(request));
  };
}

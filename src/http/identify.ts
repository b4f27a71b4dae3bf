import type { FastifyRequest } from 'fastify';
import {
  ApiKeyRejected, bearerOf, createCaller, LOOKS_LIKE_KEY, presentedKey, TokenRejected,
  type Caller, type CallerKey, type CallerUser, type SurfaceDescriptor,
} from '../access/index.js';
import { timingSafeEqualString } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import type { AuthMetrics, SecurityEvents } from '../observability/index.js';
import { operatorCookieOf, type OperatorSessionStage } from './operator-session.js';
import { routeInfo } from './route-info.js';

export interface IdentifyDeps {
  /** `known`: the key when its every check passed within the cache TTL (synchronous), else undefined. */
  apiKeys: { verify(key: string): Promise<CallerKey>; known(key: string): CallerKey | undefined };
  /**
   * A user's bearer token (Gatehouse's own or an external issuer's) → the user, session still live.
   * `known`: the user when the token and its session's liveness are cached (synchronous), else undefined.
   */
  userTokens: {
    verify(projectId: string, environment: string, token: string): Promise<CallerUser>;
    known(projectId: string, environment: string, token: string): CallerUser | undefined;
  };
  events: SecurityEvents;
  /** GATEHOUSE_METRICS_TOKEN, for the routes that take it (`config.metricsToken`). */
  metricsToken: string | undefined;
  /** Keys and tokens accepted and refused, by reason (gatehouse_auth_outcomes_total). */
  auth: AuthMetrics;
  /** The dashboard operator's session cookie, on the surfaces that take it (http/operator-session.ts). */
  operatorSessions: OperatorSessionStage;
}

/**
 * onRequest stage: who is calling. The key resolves to a project environment; a bearer token that
 * is not a key must be a live user's, verified against that environment. It publishes one new
 * caller (request.caller) and nothing else. A public route needs no key; every other route (and
 * any route not marked) needs one, so a new route fails closed. A bad credential is 401 on every
 * route, never silently treated as a guest.
 */
export function createIdentifyStage({ apiKeys, userTokens, events, metricsToken, auth, operatorSessions }: IdentifyDeps) {
  async function verifyKey(request: FastifyRequest, key: string, route: string): Promise<CallerKey> {
    try {
      const verified = await apiKeys.verify(key);
      auth.outcome('api_key', 'ok');
      return verified;
    } catch (error) {
      if (error instanceof ApiKeyRejected) {
        auth.outcome('api_key', `api_key_${error.reason}`);
        // Only the key's public prefix is logged: enough to tell which kind and environment, useless to an attacker.
        events.record('api_key_rejected', { ip: request.ip, requestId: request.id, details: { reason: error.reason, prefix: key.slice(0, 7), route } });
      }
      throw error;
    }
  }

  async function verifyUser(request: FastifyRequest, key: CallerKey, token: string, route: string, surface: SurfaceDescriptor | undefined): Promise<CallerUser> {
    try {
      const user = await userTokens.verify(key.projectId, key.environment, token);
      // An external issuer's user has no Gatehouse session.
      auth.outcome(user.sessionId === null ? 'external_token' : 'user_token', 'ok');
      return user;
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      auth.outcome(error.external ? 'external_token' : 'user_token', `token_${error.reason}`);
      events.record('token_rejected', {
        projectId: key.projectId, environment: key.environment, ip: request.ip, requestId: request.id, details: { reason: error.reason, route },
      });
      if (error.reason === 'session_revoked' && surface?.revokedSession) throw new GatehouseError(surface.revokedSession, { details: { reason: error.reason } });
      if (error.reason === 'issuer_unavailable') throw new GatehouseError('service_unavailable', { message: 'The issuer of this token could not be reached to fetch its keys.' });
      throw new GatehouseError('invalid_token', {
        message: error.reason === 'expired' ? 'The bearer token has expired.' : 'The bearer token is not valid.',
        details: { reason: error.reason },
        headers: { 'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token"` },
      });
    }
  }

  /** Without a key, on a route that takes it: the metrics token, compared in constant time. */
  function checkMetricsToken(request: FastifyRequest, bearer: string | undefined, route: string): void {
    if (bearer !== undefined && metricsToken !== undefined && timingSafeEqualString(bearer, metricsToken)) return;
    events.record('token_rejected', { ip: request.ip, requestId: request.id, details: { route, reason: bearer ? 'mismatch' : 'missing' } });
    throw new GatehouseError(bearer ? 'invalid_token' : 'missing_api_key');
  }

  /** A caller seen within the caches' TTL is identified synchronously: no promise, no microtask turn. */
  function identifyKnown(key: string, userToken: string | undefined): Caller | undefined {
    const verified = apiKeys.known(key);
    if (!verified) return undefined;
    const user = userToken === undefined ? null : userTokens.known(verified.projectId, verified.environment, userToken);
    if (user === undefined) return undefined;
    auth.outcome('api_key', 'ok');
    if (user) auth.outcome(user.sessionId === null ? 'external_token' : 'user_token', 'ok');
    return createCaller(verified, user);
  }

  async function identifyAfresh(request: FastifyRequest, key: string, userToken: string | undefined, route: string, surface: SurfaceDescriptor | undefined): Promise<void> {
    const verified = await verifyKey(request, key, route);
    const user = userToken === undefined ? null : await verifyUser(request, verified, userToken, route, surface);
    request.caller = createCaller(verified, user);
  }

  return function identify(request: FastifyRequest): void | Promise<void> {
    const route = routeInfo(request);
    const config = route.config;
    if (!route.url) return; // no route: the 404 handler answers
    const takesCookie = config.surface?.operatorSession === true;
    if (config.auth === 'public') {
      // The dashboard's setup and sign-in: no session yet, but no other site may post them either.
      if (takesCookie) operatorSessions.publicRoute(request);
      return;
    }
    // /_/api takes the operator's session and nothing else: a key there names no operator.
    if (config.auth === 'operator') return operatorSessions.dashboard(request);
    const headers = request.headers;
    const bearer = bearerOf(headers.authorization);
    const key = presentedKey(headers.apikey, headers['x-api-key'], bearer) ?? (config.keyInQuery ? queryKey(request) : undefined);
    if (key === undefined) {
      // No key on /admin/v1: the dashboard's session cookie, if one came. A key, when sent, wins and
      // the cookie is ignored: the caller is what the key says, exactly as without a dashboard.
      const sessionId = takesCookie ? operatorCookieOf(request) : undefined;
      if (sessionId !== undefined) return operatorSessions.admin(request, sessionId);
      if (config.metricsToken) return checkMetricsToken(request, bearer, route.url);
      auth.outcome('api_key', 'api_key_missing');
      events.record('api_key_rejected', { ip: request.ip, requestId: request.id, details: { reason: 'missing', route: route.url } });
      throw new GatehouseError('missing_api_key');
    }
    // A bearer that is a key was the key itself; on a metrics route it is the metrics token's place.
    const userToken = bearer !== undefined && !config.metricsToken && !LOOKS_LIKE_KEY.test(bearer) ? bearer : undefined;
    const known = identifyKnown(key, userToken);
    if (known) {
      request.caller = known;
      return;
    }
    return identifyAfresh(request, key, userToken, route.url, config.surface);
  };
}

/** `?apikey=` on routes that take it (config.keyInQuery): one string, else none. */
function queryKey(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.apikey;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import { ApiKeyRejected, hasScope, LOOKS_LIKE_KEY, type ApiKeyService } from '../identity/api-keys/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { routeInfo } from './route-info.js';
import type { Caller } from './types.js';

/** The key a request presents, from `apikey`, `X-API-Key` or `Authorization: Bearer <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const candidates = new Set<string>();
  for (const name of ['apikey', 'x-api-key'] as const) {
    const value = request.headers[name];
    if (typeof value === 'string' && value !== '') candidates.add(value.trim());
  }
  const bearer = bearerToken(request);
  if (bearer && LOOKS_LIKE_KEY.test(bearer)) candidates.add(bearer);
  if (candidates.size > 1) {
    // Two different keys in one request: refuse rather than guess which one counts.
    throw new GatehouseError('bad_request', { message: 'The request carries two different API keys; send one.' });
  }
  return candidates.values().next().value;
}

const BEARER = Symbol('gatehouse.bearer');
const BEARER_HEADER = /^Bearer[ ]+(\S+)\s*$/i;

/** The `Authorization: Bearer` credential; parsed once per request (three stages ask). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const memo = request as FastifyRequest & { [BEARER]?: string | null };
  let token = memo[BEARER];
  if (token === undefined) {
    const header = request.headers.authorization;
    token = typeof header === 'string' ? (BEARER_HEADER.exec(header)?.[1] ?? null) : null;
    memo[BEARER] = token;
  }
  return token ?? undefined;
}

/**
 * onRequest stage: resolves the API key to a project environment. A public
 * route needs no key; every other route (and any route not marked) needs one,
 * so a new route fails closed.
 */
export function createCallerStage({ apiKeys, events }: { apiKeys: ApiKeyService; events: SecurityEvents }) {
  return async function resolveCaller(request: FastifyRequest): Promise<void> {
    request.caller = null;
    const route = routeInfo(request);
    const config = route.config;
    if (!route.url) return; // unknown route: the 404 handler answers
    if (config.auth === 'public') return;
    const key = presentedKey(request);
    if (!key) {
      events.record('api_key_rejected', { ip: request.ip, requestId: request.id, details: { reason: 'missing', route: route.url } });
      throw new GatehouseError('missing_api_key');
    }
    try {
      const verified = await apiKeys.verify(key);
      const caller: Caller = {
        projectId: verified.projectId,
        environment: verified.environment,
        key: verified,
        group: verified.kind === 'secret' ? 'admin' : 'guest',
        user: null,
      };
      request.caller = caller;
    } catch (error) {
      if (error instanceof ApiKeyRejected) {
        // Only the key's public prefix is logged: enough to tell which kind and environment, useless to an attacker.
        events.record('api_key_rejected', {
          ip: request.ip,
          requestId: request.id,
          details: { reason: error.reason, prefix: key.slice(0, 7), route: route.url },
        });
      }
      throw error;
    }
  };
}

/**
 * preHandler stage: admin-only routes and key scopes. It runs after the user
 * token stage, since an admin user also counts as `admin`.
 */
export function createAuthorizationStage({ events }: { events: SecurityEvents }) {
  return function authorize(request: FastifyRequest, _reply: FastifyReply): void {
    const route = routeInfo(request);
    const { auth = 'key', scope } = route.config;
    const caller = request.caller;
    if (auth === 'public' || !caller) return;
    if (auth === 'secret' && caller.group !== 'admin') {
      events.record('secret_key_required', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { route: route.url, key_id: caller.key.id } });
      throw new GatehouseError('secret_key_required');
    }
    if (scope) requireScope(request, scope, events);
  };
}

/** For scopes only known in the handler (e.g. `data:<table>:read`). */
export function requireScope(request: FastifyRequest, scope: string, events?: SecurityEvents): void {
  const caller = request.caller;
  if (!caller) throw new GatehouseError('missing_api_key');
  if (hasScope(caller.key.scopes, scope)) return;
  events?.record('api_key_scope_denied', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { needed: scope, key_id: caller.key.id } });
  throw new GatehouseError('insufficient_scope', { message: `The API key lacks the scope ${scope}.`, details: { required_scope: scope } });
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { compileOrigins, type OriginMatcher, type ProjectService } from '../tenancy/index.js';
import type { Environment } from '../tenancy/index.js';
import type { Clock } from '../shared/clock.js';
import { createTtlCache, KEEP_WARM_MS } from '../shared/ttl-cache.js';
import type { Caller } from './types.js';

// Hand-written instead of @fastify/cors because the allowlist belongs to the
// project environment, which is known only once the key is resolved — and a
// preflight carries no key at all. So:
//   - a preflight is answered for an origin that some environment allows;
//   - an actual request from a browser (Origin header) is refused with 403
//     unless its own environment allows that origin, so a leaked publishable
//     key cannot be used from another site;
//   - `Access-Control-Allow-Credentials` is never sent: Gatehouse authenticates
//     with headers, not cookies, so `*` can never be combined with credentials.

const EXPOSED_HEADERS = [
  'X-Request-Id', 'Content-Range', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining',
  'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy',
].join(', ');
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const PREFLIGHT_MAX_AGE_S = '600';
const SAFE_HEADER_LIST = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/;

export interface CorsStageDeps {
  projects: ProjectService;
  allOrigins: () => Promise<string[]>;
  events: SecurityEvents;
  clock: Clock;
  /** How long allowlists are cached; changes apply within this time on every instance. */
  cacheTtlMs?: number;
}

export function createCorsStage({ projects, allOrigins, events, clock, cacheTtlMs = 1000 }: CorsStageDeps) {
  // Allowlists by project environment, and their union (key `*`, for preflights, which carry no key).
  // Kept warm (ttl-cache.ts): a browser's request after a quiet spell does not wait for the database.
  const matchers = createTtlCache<Promise<OriginMatcher>>({ ttlMs: cacheTtlMs, clock, keepWarmMs: KEEP_WARM_MS });
  const UNION = '*';

  function environmentMatcher(projectId: string, environment: Environment): Promise<OriginMatcher> {
    return matchers.getOrLoad(`${projectId}/${environment}`, async () => compileOrigins(await projects.corsOrigins(projectId, environment)));
  }

  function unionMatcher(): Promise<OriginMatcher> {
    return matchers.getOrLoad(UNION, async () => compileOrigins(await allOrigins()));
  }

  return {
    /** onRequest, before the caller stage: answers preflights. */
    preflight(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
      const origin = request.headers.origin;
      if (request.method !== 'OPTIONS' || typeof origin !== 'string' || !request.headers['access-control-request-method']) return;
      return answerPreflight(request, reply, origin);
    },

    /** onRequest, after the caller stage: a browser request must come from an allowed origin. */
    checkOrigin(request: FastifyRequest): void | Promise<void> {
      const origin = request.headers.origin;
      const caller = request.caller;
      // An operator's session came from the dashboard's own origin (checked by identify), which
      // no project's allowlist needs to name.
      if (typeof origin !== 'string' || !caller || caller.operator) return;
      return checkAllowed(request, caller, origin);
    },

    /** onSend: lets an allowed page read the answer, errors included. */
    decorate(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
      const origin = request.headers.origin;
      if (typeof origin !== 'string' || reply.hasHeader('Access-Control-Allow-Origin')) return;
      return allowReading(request, reply, origin);
    },

    /** After an admin changes an allowlist, this instance applies it at once. */
    invalidate(): void {
      matchers.clear();
    },
  };

  async function answerPreflight(request: FastifyRequest, reply: FastifyReply, origin: string): Promise<void> {
    if (!(await unionMatcher())(origin)) {
      events.record('origin_rejected', { ip: request.ip, requestId: request.id, details: { origin: origin.slice(0, 200), preflight: true } });
      throw new GatehouseError('origin_not_allowed');
    }
    const requested = request.headers['access-control-request-headers'];
    reply
      .header('Access-Control-Allow-Origin', origin)
      .header('Vary', 'Origin, Access-Control-Request-Headers')
      .header('Access-Control-Allow-Methods', ALLOWED_METHODS)
      .header('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
    if (typeof requested === 'string' && SAFE_HEADER_LIST.test(requested)) reply.header('Access-Control-Allow-Headers', requested);
    await reply.code(204).send();
  }

  async function checkAllowed(request: FastifyRequest, caller: Caller, origin: string): Promise<void> {
    if ((await environmentMatcher(caller.projectId, caller.environment))(origin)) return;
    events.record('origin_rejected', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { origin: origin.slice(0, 200) } });
    throw new GatehouseError('origin_not_allowed');
  }

  async function allowReading(request: FastifyRequest, reply: FastifyReply, origin: string): Promise<void> {
    const caller = request.caller;
    const allowed = caller ? (await environmentMatcher(caller.projectId, caller.environment))(origin) : (await unionMatcher())(origin);
    reply.header('Vary', 'Origin');
    if (!allowed) return;
    reply.header('Access-Control-Allow-Origin', origin).header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  }
}

export type CorsStage = ReturnType<typeof createCorsStage>;

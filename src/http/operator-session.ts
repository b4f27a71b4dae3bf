import type { FastifyRequest } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import { createOperatorCaller, type CallerOperatorRole } from '../access/index.js';
import { timingSafeEqualString } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { ENVIRONMENTS, type Environment } from '../tenancy/index.js';

// The dashboard operator's session cookie, on the surfaces that take it (/_/api, and /admin/v1
// when no key is sent). A cookie rides along on every request the browser makes, so a change made
// with it must prove it came from the dashboard's own page: its session's CSRF token in a header
// (a page on another origin cannot read it) AND a same-origin Origin / Sec-Fetch-Site. SameSite=
// Strict already keeps the cookie off cross-site requests; these hold even where it does not
// (an old browser, a sibling subdomain, which counts as same-site).

export const OPERATOR_COOKIE = 'gatehouse_operator';
/**
 * The name when the cookie is Secure: the __Host- prefix makes the browser refuse it unless it is
 * Secure, Path=/ and without Domain, so a sibling subdomain or plain-http page cannot plant or
 * shadow it.
 */
export const OPERATOR_COOKIE_SECURE = `__Host-${OPERATOR_COOKIE}`;
export const CSRF_HEADER = 'x-csrf-token';
export const PROJECT_HEADER = 'x-gatehouse-project';
export const ENVIRONMENT_HEADER = 'x-gatehouse-environment';

/** What identify publishes about a live operator session (request.operatorSession). */
export interface OperatorSessionOnRequest {
  operator: { id: string; email: string; totpEnabled: boolean };
  csrfToken: string;
  /** The cookie's value, for sign-out; never logged. */
  sessionId: string;
}

export interface OperatorSessionDeps {
  operators: {
    session(sessionId: string): Promise<{ operator: { id: string; email: string; totpEnabled: boolean }; csrfToken: string } | null>;
    roleIn(operatorId: string, projectId: string): Promise<CallerOperatorRole | null>;
  };
  events: SecurityEvents;
  /** GATEHOUSE_PUBLIC_URL, when set: its origin is the dashboard's, whatever Host a proxy passes on. */
  publicUrl: string | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session id from either cookie name; the __Host- one wins (it cannot have been planted). */
export function operatorCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || !header.includes(OPERATOR_COOKIE)) return undefined;
  const cookies = fastifyCookie.parse(header);
  for (const name of [OPERATOR_COOKIE_SECURE, OPERATOR_COOKIE]) {
    const value = cookies[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

export function createOperatorSessionStage({ operators, events, publicUrl }: OperatorSessionDeps) {
  const publicOrigin = publicUrl ? new URL(publicUrl).origin : undefined;

  function ownOrigins(request: FastifyRequest): string[] {
    const own = `${request.protocol}://${request.host}`;
    return publicOrigin && publicOrigin !== own ? [own, publicOrigin] : [own];
  }

  function refuse(request: FastifyRequest, reason: string): GatehouseError {
    events.record('csrf_rejected', { ip: request.ip, requestId: request.id, details: { reason, route: request.routeOptions.url ?? null } });
    return new GatehouseError('csrf_rejected');
  }

  /**
   * Every request with the cookie: a foreign Origin or a cross-site Sec-Fetch-Site is refused. A
   * change must also show that it is same-origin (a browser sends Origin or Sec-Fetch-Site on
   * every POST/PUT/PATCH/DELETE): a request that says neither is refused, not trusted.
   */
  function checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    if (typeof origin === 'string' && !ownOrigins(request).includes(origin)) throw refuse(request, 'origin');
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') throw refuse(request, 'sec_fetch_site');
    if (!SAFE_METHODS.has(request.method) && typeof origin !== 'string' && site !== 'same-origin') throw refuse(request, 'origin_missing');
  }

  function checkCsrf(request: FastifyRequest, expected: string): void {
    if (SAFE_METHODS.has(request.method)) return;
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || sent === '') throw refuse(request, 'token_missing');
    if (!timingSafeEqualString(sent, expected)) throw refuse(request, 'token_wrong');
  }

  async function liveSession(request: FastifyRequest, sessionId: string | undefined): Promise<OperatorSessionOnRequest> {
    const session = sessionId === undefined ? null : await operators.session(sessionId);
    if (!session) throw new GatehouseError('not_signed_in');
    checkOrigin(request);
    checkCsrf(request, session.csrfToken);
    return { ...session, sessionId: sessionId! };
  }

  return {
    /** A public dashboard route (setup, sign-in): no session yet, but a change still comes from our own page (no login CSRF). */
    publicRoute(request: FastifyRequest): void {
      checkOrigin(request);
    },

    /** /_/api: the session, or 401. */
    async dashboard(request: FastifyRequest): Promise<void> {
      request.operatorSession = await liveSession(request, operatorCookieOf(request));
    },

    /**
     * /admin/v1 without a key: the session, the project and environment it names in headers, and
     * the operator's role there. An operator without a role in that project is refused (403), the
     * same whether or not the project exists.
     */
    async admin(request: FastifyRequest, sessionId: string): Promise<void> {
      const session = await liveSession(request, sessionId);
      const projectId = request.headers[PROJECT_HEADER];
      const environment = request.headers[ENVIRONMENT_HEADER];
      if (typeof projectId !== 'string' || projectId === '') {
        throw new GatehouseError('bad_request', { message: `Name the project in the ${PROJECT_HEADER} header.`, details: { header: PROJECT_HEADER } });
      }
      if (typeof environment !== 'string' || !(ENVIRONMENTS as readonly string[]).includes(environment)) {
        throw new GatehouseError('bad_request', { message: `Name the environment (${ENVIRONMENTS.join(', ')}) in the ${ENVIRONMENT_HEADER} header.`, details: { header: ENVIRONMENT_HEADER } });
      }
      const role = await operators.roleIn(session.operator.id, projectId);
      if (role === null) throw new GatehouseError('forbidden', { message: 'This operator has no role in that project.' });
      request.operatorSession = session;
      request.caller = createOperatorCaller(projectId, environment as Environment, { id: session.operator.id, role });
    },
  };
}

export type OperatorSessionStage = ReturnType<typeof createOperatorSessionStage>;

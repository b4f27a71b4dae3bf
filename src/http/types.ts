import type { VerifiedKey } from '../identity/api-keys/index.js';
import type { Environment } from '../tenancy/index.js';

/** Authorization groups of API.md; `self` is decided per row by the data layer. */
export type CallerGroup = 'guest' | 'user' | 'admin';

export interface CallerUser {
  id: string;
  role: string;
  sessionId: string | null;
  /** Verified token claims, for rule expressions. */
  claims: Record<string, unknown>;
}

/** Who is calling, resolved once per request from the key (and later the user token). */
export interface Caller {
  projectId: string;
  environment: Environment;
  key: VerifiedKey;
  group: CallerGroup;
  user: CallerUser | null;
}

/**
 * How a route is guarded. `public`: no key needed (health, docs). `key`: any
 * valid key. `secret`: the admin group — a secret key, or an admin user.
 */
export type RouteAuth = 'public' | 'key' | 'secret';

/** Route classes, for body limits and rate limits; a route belongs to one. */
export type RouteClass = 'auth' | 'llm' | 'data_read' | 'data_write' | 'admin' | 'default';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the caller stage; null on public routes without a key. */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** Scope a scoped key needs, e.g. `admin:keys`. */
    scope?: string;
    routeClass?: RouteClass;
    /**
     * The account a request of this route names (e.g. the normalised email of a sign-up), for a
     * rate-limit counter per account on top of the caller's. Read in preValidation, before the
     * schema ran: it must accept any body and return undefined for what is not an account.
     */
    rateLimitAccount?: (request: FastifyRequest) => string | undefined;
  }
}

import type { Caller, RouteAuth, RouteClass, ScopeGrant, SurfaceDescriptor, UserRequirement } from '../access/index.js';
import type { AuthKind } from '../observability/metrics-outcomes.js';
import type { OperatorSessionOnRequest } from './operator-session.js';

export type { Caller, CallerGroup, CallerUser, RouteAuth, RouteClass } from '../access/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the identify stage; null on public routes without a key. */
    caller: Caller | null;
    /** Set by the identify stage when the dashboard operator's session cookie identified the request. */
    operatorSession: OperatorSessionOnRequest | null;
  }
  interface FastifyContextConfig {
    /** The route's surface; stamped at start from the surfaces table (http/surface.ts). */
    surface?: SurfaceDescriptor;
    /** Defaults to the surface's. */
    auth?: RouteAuth;
    /** Defaults to the surface's. */
    user?: UserRequirement;
    /**
     * Scope a scoped key needs, e.g. `admin:keys`; a function where it names the route's
     * parameters (`data:<table>:read`). Runs in onRequest: it must accept any parameters.
     */
    scope?: string | ((request: FastifyRequest) => string);
    /** Defaults to `granted`. */
    scopeGrant?: ScopeGrant;
    /** Defaults to the surface's. */
    routeClass?: RouteClass;
    /**
     * `false` on load balancers' probes (/health, /ready): they come every few seconds from the
     * same few addresses, and a probe answered 429 takes a healthy instance out of rotation.
     * They are not counted either, so probes never spend the address budget of real requests.
     */
    addressLimit?: false;
    /**
     * The API key may come as `?apikey=` (the realtime WebSocket): a browser cannot set headers on
     * a WebSocket, so realtime-js sends its key in the URL. A header key still wins.
     */
    keyInQuery?: boolean;
    /** A bearer that is not a key is the operator's metrics token here, not a user's JWT (/metrics). */
    metricsToken?: boolean;
    /**
     * A POST that only reads (its query is too rich for a URL, e.g. view-as): a dashboard viewer
     * may call it. The act itself must still refuse a viewer what goes beyond reading.
     */
    readOnly?: boolean;
    /**
     * The credential this route checks (sign-in, sign-up, refresh), counted by outcome and error
     * code once the response is sent; a function where it depends on the request (the grant type).
     */
    authOutcome?: AuthKind | ((request: FastifyRequest) => AuthKind | undefined);
    /**
     * The account a request of this route names (e.g. the normalised email of a sign-up), for a
     * rate-limit counter per account on top of the caller's. Read in preValidation, before the
     * schema ran: it must accept any body and return undefined for what is not an account.
     */
    rateLimitAccount?: (request: FastifyRequest) => string | undefined;
    /** The page-protecting headers on every answer of this route, whatever its type (the /docs pages). */
    documentHeaders?: true;
  }
}

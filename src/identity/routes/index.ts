import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGatehouseError } from '../../errors/index.js';
import type { SecurityEvents, SecurityEventType } from '../../observability/index.js';
import type { AuthRoutesOptions } from './context.js';
import { jwksRoutes } from './jwks.js';
import { oidcRoutes, type OidcRoutesOptions } from './oidc.js';
import { recoveryRoutes } from './recovery.js';
import { signInRoutes } from './sign-in.js';
import { userRoutes } from './user.js';

/** `/auth/v1/*`: GoTrue's wire format, so supabase-js auth works unchanged (docs/api.md). */
export async function authRoutes(app: FastifyInstance, { identity, projects, clock }: OidcRoutesOptions): Promise<void> {
  // Without GATEHOUSE_PUBLIC_URL (development only), issuers name the address this server listens on.
  identity.publicBase.listenOn(app.server);
  const options: AuthRoutesOptions = { identity };
  await app.register(signInRoutes, options);
  await app.register(userRoutes, options);
  await app.register(recoveryRoutes, options);
  await app.register(jwksRoutes, options);
  await app.register(oidcRoutes, { identity, projects, clock });
}

// onError of the /auth surface. Rejections not already recorded where they happen (sign-in failures, backoff, reuse,
// recovery and email-change codes, sign-up refusals and bad tokens record their own event;
// schema errors are recorded by the error handler). Every 4xx of /auth/v1 thus leaves one
// security event.
const EVENT_OF: Partial<Record<string, SecurityEventType>> = {
  email_address_invalid: 'malformed_request',
  unsupported_grant_type: 'malformed_request',
  weak_password: 'malformed_request',
  email_exists: 'malformed_request',
  over_email_send_rate_limit: 'rate_limited',
  refresh_token_not_found: 'token_rejected',
  no_authorization: 'token_rejected',
  session_not_found: 'token_rejected',
  user_not_found: 'token_rejected',
};

export function recordAuthRejections(events: SecurityEvents) {
  return async function onAuthError(request: FastifyRequest, _reply: FastifyReply, error: Error): Promise<void> {
    if (!isGatehouseError(error) || request.url.startsWith('/auth/v1/signup')) return;
    const type = EVENT_OF[error.code];
    if (!type) return;
    events.record(type, {
      projectId: request.caller?.projectId, environment: request.caller?.environment, ip: request.ip, requestId: request.id,
      details: { code: error.code, route: request.routeOptions.url ?? null },
    });
  };
}

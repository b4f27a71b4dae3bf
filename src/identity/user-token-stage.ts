import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import { bearerToken, routeInfo, type CallerUser } from '../http/index.js';
import { LOOKS_LIKE_KEY } from './api-keys/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { decodeUnverified, TokenRejected, type AccessTokenService } from './jwt/index.js';
import type { ExternalVerifier } from './external/index.js';
import type { SessionService } from './sessions/index.js';

/**
 * onRequest stage, right after the API key (STYLE.md §2): turns `Authorization: Bearer <JWT>` into
 * `request.caller.user`. A Gatehouse token must verify against the signing
 * keys of the caller's own project environment and name a live session; any
 * other issuer must be an external issuer configured for that environment.
 * A bad token is 401 on every route: never silently treated as a guest.
 */
export function createUserTokenStage(d: { tokens: AccessTokenService; sessions: SessionService; external: ExternalVerifier; events: SecurityEvents }) {
  const { tokens, sessions, external, events } = d;

  async function resolveUser(projectId: string, environment: string, token: string): Promise<CallerUser> {
    // A token verified here before skips decoding; otherwise the issuer decides who verifies it.
    const known = tokens.cached(projectId, environment, token);
    if (known || decodeUnverified(token).payload.iss === tokens.issuer) {
      const claims = known ?? await tokens.verify(projectId, environment, token);
      const session = await sessions.active(projectId, environment, claims.session_id as string);
      if (!session) throw new TokenRejected('session_revoked');
      if (session.userId !== claims.sub) throw new TokenRejected('session_revoked');
      // The role comes from the database, not the token: a demoted admin stops being admin at once.
      // The claims are the verified-token cache's own, frozen: shared, not copied, per request.
      return { id: session.userId, role: session.role, sessionId: session.id, claims };
    }
    return external.verify(projectId, environment, token);
  }

  return async function verifyUserToken(request: FastifyRequest): Promise<void> {
    const caller = request.caller;
    if (!caller) return; // public route or unknown route: no project environment to verify against
    const token = bearerToken(request);
    if (!token || LOOKS_LIKE_KEY.test(token)) return;
    try {
      const user = await resolveUser(caller.projectId, caller.environment, token);
      caller.user = user;
      // A secret key stays admin whatever user rides along; otherwise the user's role decides.
      if (caller.key.kind !== 'secret') caller.group = user.role === 'admin' ? 'admin' : 'user';
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      events.record('token_rejected', {
        projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id,
        details: { reason: error.reason, route: routeInfo(request).url },
      });
      if (error.reason === 'session_revoked' && request.url.startsWith('/auth/v1')) {
        throw new GatehouseError('session_not_found', { details: { reason: error.reason } });
      }
      if (error.reason === 'issuer_unavailable') throw new GatehouseError('service_unavailable', { message: 'The issuer of this token could not be reached to fetch its keys.' });
      throw new GatehouseError('invalid_token', {
        message: error.reason === 'expired' ? 'The bearer token has expired.' : 'The bearer token is not valid.',
        details: { reason: error.reason },
        headers: { 'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token"` },
      });
    }
  };
}

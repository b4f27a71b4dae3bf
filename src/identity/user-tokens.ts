import type { CallerUser } from '../access/index.js';
import { decodeUnverified, TokenRejected, type AccessTokenService, type UnverifiedToken } from './jwt/index.js';
import type { ExternalVerifier } from './external/index.js';
import type { ActiveSession, SessionService } from './sessions/index.js';
import type { JWTPayload } from 'jose';

export interface UserTokenVerifier {
  /** The user behind a bearer token, or TokenRejected (the identify stage turns it into a 401). */
  verify(projectId: string, environment: string, token: string): Promise<CallerUser>;
  /**
   * The hot path, synchronous: the user when this token verified here before and its session's
   * liveness is cached and live; undefined for anything else, which `verify` then decides.
   */
  known(projectId: string, environment: string, token: string): CallerUser | undefined;
}

/** The caller's user: the role comes from the database, not the token, so a demoted admin stops being admin at once. */
function userOf(session: ActiveSession, claims: JWTPayload): CallerUser {
  // The claims are the verified-token cache's own, frozen: shared, not copied, per request.
  return { id: session.userId, role: session.role, sessionId: session.id, claims };
}

/**
 * A Gatehouse token must verify against the signing keys of the caller's own project environment
 * and name a live session; any other issuer must be an external issuer configured for that
 * environment. That includes another environment of this server, trusted through its public
 * JWKS like any OIDC issuer; untrusted, such a token goes to our own verifier, which refuses it
 * with the precise reason (`wrong_project`) rather than `wrong_issuer`.
 */
export function createUserTokenVerifier({ tokens, sessions, external }: { tokens: AccessTokenService; sessions: SessionService; external: ExternalVerifier }): UserTokenVerifier {
  /** Another issuer of this server that this environment does not trust as external: still ours to refuse. */
  async function ownButUntrusted(projectId: string, environment: string, iss: unknown): Promise<boolean> {
    return typeof iss === 'string' && tokens.issuerUrls.isOwn(iss) && !(await external.trusts(projectId, environment, iss));
  }

  async function verifyExternal(projectId: string, environment: string, token: string, decoded: UnverifiedToken): Promise<CallerUser> {
    try {
      return await external.verify(projectId, environment, token, decoded);
    } catch (error) {
      if (error instanceof TokenRejected) error.external = true;
      throw error;
    }
  }

  return {
    known(projectId, environment, token) {
      const claims = tokens.cached(projectId, environment, token);
      if (!claims) return undefined;
      const session = sessions.known(projectId, environment, claims.session_id as string);
      return session && session.userId === claims.sub ? userOf(session, claims) : undefined;
    },

    async verify(projectId, environment, token) {
      // A token verified here before skips decoding; one refused for its signature lately is refused
      // again without it; otherwise it is decoded once, and the issuer decides who verifies it.
      let claims = tokens.cached(projectId, environment, token);
      if (!claims) {
        const refused = tokens.refusedBefore(projectId, environment, token);
        if (refused) throw new TokenRejected(refused);
        const decoded = decodeUnverified(token);
        const iss = decoded.payload.iss;
        const ours = tokens.accepts(projectId, environment, iss) || await ownButUntrusted(projectId, environment, iss);
        if (!ours) return verifyExternal(projectId, environment, token, decoded);
        claims = await tokens.verify(projectId, environment, token, decoded);
      }
      const session = await sessions.active(projectId, environment, claims.session_id as string);
      if (!session) throw new TokenRejected('session_revoked');
      if (session.userId !== claims.sub) throw new TokenRejected('session_revoked');
      return userOf(session, claims);
    },
  };
}

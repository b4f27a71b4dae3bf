import type { CallerUser } from '../../access/index.js';
import type { Clock } from '../../shared/clock.js';
import { isoNow } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { isUniqueViolation, type UserStore } from '../accounts/index.js';
import { checkHeader, decodeUnverified, TokenRejected, verifySignatureAndClaims, type UnverifiedToken } from '../jwt/index.js';
import type { IssuerService } from './issuers.js';
import type { JwksCache } from './jwks-cache.js';

export interface ExternalVerifier {
  /**
   * Verifies a token of an issuer configured for this environment and maps it to a local user.
   * `decoded`: the token's parts if the caller decoded it already (to route it), not decoded again.
   */
  verify(projectId: string, environment: string, token: string, decoded?: UnverifiedToken): Promise<CallerUser>;
  /** Whether `iss` is configured as an issuer of this environment. */
  trusts(projectId: string, environment: string, iss: string): Promise<boolean>;
}

export function createExternalVerifier(d: { issuers: IssuerService; jwks: JwksCache; users: UserStore; clock: Clock; clockSkewSeconds: number }): ExternalVerifier {
  const { issuers, jwks, users, clock, clockSkewSeconds } = d;

  /** First sight of (issuer, sub) creates the local record that ownership and rate limits hang on. */
  async function localUser(projectId: string, environment: string, issuerId: string, sub: string) {
    const existing = await users.byExternal(projectId, environment, issuerId, sub);
    if (existing) return existing;
    const now = isoNow(clock);
    const row = {
      id: newId('usr'), project_id: projectId, environment, email: null, email_confirmed_at: null, password_hash: null, role: 'authenticated',
      app_metadata: JSON.stringify({ issuer_id: issuerId }), user_metadata: '{}', issuer_id: issuerId, external_sub: sub,
      created_at: now, updated_at: now, last_sign_in_at: null, email_change: null, email_change_sent_at: null,
    };
    try {
      await users.insert(row);
      return row;
    } catch (error) {
      // Two first requests at once: the other one created it.
      if (!isUniqueViolation(error)) throw error;
      const raced = await users.byExternal(projectId, environment, issuerId, sub);
      if (!raced) throw error;
      return raced;
    }
  }

  return {
    trusts: async (projectId, environment, iss) => (await issuers.findByIss(projectId, environment, iss)) !== null,

    async verify(projectId, environment, token, decoded) {
      const { header, payload } = decoded ?? decodeUnverified(token);
      if (typeof payload.iss !== 'string') throw new TokenRejected('missing_claim');
      const issuer = await issuers.findByIss(projectId, environment, payload.iss);
      if (!issuer) throw new TokenRejected('wrong_issuer');
      checkHeader(header, issuer.algorithms);
      const key = issuer.hmacSecret ?? (issuer.jwksUrl ? jwks.resolver(issuer.jwksUrl) : null);
      if (!key) throw new TokenRejected('unknown_key');
      const now = clock.now();
      const claims = await verifySignatureAndClaims(token, key, {
        algorithms: issuer.algorithms, issuer: issuer.issuer, audience: issuer.audience, clockSkewS: clockSkewSeconds, now,
      });
      if (issuer.kind === 'firebase') {
        // Firebase's documented checks: auth_time in the past, sub non-empty (verifyIdToken).
        const authTime = claims.auth_time;
        if (typeof authTime !== 'number' || authTime > Math.floor(now.getTime() / 1000) + clockSkewSeconds) throw new TokenRejected('issued_in_future');
      }
      const user = await localUser(projectId, environment, issuer.id, claims.sub!);
      // The external token's own `role` (e.g. Supabase's service_role) grants nothing here: only our record does.
      return { id: user.id, role: user.role, sessionId: null, claims: { ...claims, gatehouse_issuer: issuer.id } };
    },
  };
}

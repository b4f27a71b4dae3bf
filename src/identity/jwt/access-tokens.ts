import { SignJWT, type JWTPayload } from 'jose';
import type { Clock } from '../../shared/clock.js';
import { deepFreeze } from '../../shared/deep-freeze.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import { checkHeader, decodeUnverified, type UnverifiedToken } from './header-checks.js';
import { refuseByClaims, verifySignatureAndClaims, type ClaimRules } from './claims.js';
import type { IssuerUrls } from './issuer-urls.js';
import { findVerificationKey, SIGNING_ALGS, type SigningKeyService } from './signing-keys.js';
import { refuseForgedSignature } from './signature-precheck.js';
import { TokenRejected, type TokenRejectReason } from './token-rejected.js';

/** GoTrue's audience for signed-in users; supabase-js and PostgREST expect it. */
export const ACCESS_TOKEN_AUDIENCE = 'authenticated';

export interface AccessTokenClaims {
  sub: string;
  email: string | null;
  role: string;
  sessionId: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  /** Seconds since the epoch: when the password (or other method) was used. */
  authTime: number;
  method: string;
}

/**
 * The claims of a user's access token but iss, iat and exp: one builder for the token issued at
 * sign-in and for the dashboard's view-as, so the rules see the same claims in both. Without a
 * session (view-as, a preview "as of a fresh sign-in"), session_id and amr are absent.
 */
export function accessClaimsFor(
  projectId: string, environment: string,
  c: Omit<AccessTokenClaims, 'sessionId' | 'authTime' | 'method'> & Partial<Pick<AccessTokenClaims, 'sessionId' | 'authTime' | 'method'>>,
): Record<string, unknown> & { sub: string; role: string } {
  // Claim names follow GoTrue so that code written for Supabase reads them unchanged.
  return {
    sub: c.sub, aud: ACCESS_TOKEN_AUDIENCE,
    email: c.email ?? '', phone: '', app_metadata: c.appMetadata, user_metadata: c.userMetadata, role: c.role, aal: 'aal1',
    ...(c.sessionId !== undefined && c.method !== undefined && c.authTime !== undefined
      ? { amr: [{ method: c.method, timestamp: c.authTime }], session_id: c.sessionId }
      : {}),
    is_anonymous: false, project_id: projectId, environment,
  };
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  expiresAt: number;
}

export interface AccessTokenService {
  readonly issuerUrls: IssuerUrls;
  /** Whether this environment's verifier takes a token naming `iss`: its own issuer, or the legacy one. */
  accepts(projectId: string, environment: string, iss: unknown): boolean;
  issue(projectId: string, environment: string, claims: AccessTokenClaims): Promise<IssuedAccessToken>;
  /**
   * Signature, header and claims only; session revocation is the caller's next check. `decoded`:
   * the token's parts if the caller decoded it already (to route it by issuer), not decoded again.
   */
  verify(projectId: string, environment: string, token: string, decoded?: UnverifiedToken): Promise<JWTPayload>;
  /** The claims of a token already verified here and not yet expired, without decoding it again (hot path). */
  cached(projectId: string, environment: string, token: string): JWTPayload | undefined;
  /**
   * Why this exact token was refused here lately, if for a reason that can never change (its
   * signature is not its key's): a client retrying a forged token costs a lookup, not a check.
   */
  refusedBefore(projectId: string, environment: string, token: string): TokenRejectReason | undefined;
}

/**
 * The refused-token cache's bounds: entries are whole tokens, so at most ~4 MB (longer tokens are
 * not kept: they are checked again); a minute, so that even a verdict that cannot change is not
 * held for long.
 */
const REFUSED_MAX_ENTRIES = 1000;
const REFUSED_MAX_TOKEN_CHARS = 4096;
const REFUSED_TTL_MS = 60_000;

export function createAccessTokenService(options: {
  keys: SigningKeyService; clock: Clock; issuerUrls: IssuerUrls; ttlSeconds: number; clockSkewSeconds: number;
}): AccessTokenService {
  const { keys, clock, issuerUrls, ttlSeconds, clockSkewSeconds } = options;
  // Each environment's own issuer, and the legacy one: nothing mints it any more, so what it
  // still admits ends one access-token TTL after the upgrade (see IssuerUrls.legacy).
  const accepted = (projectId: string, environment: string) => [issuerUrls.of(projectId, environment), issuerUrls.legacy];
  // Every algorithm Gatehouse can sign with (asymmetric only), so that tokens signed before
  // a change of identity.signingAlg keep verifying; each key's own alg must still match exactly.
  // Verified tokens, by environment and exact token text, until they expire. A
  // signature check costs ~0.3 ms of CPU and a client sends the same token for an
  // hour; what can change meanwhile (session revoked, role) is checked per request
  // by the caller, not here, so caching the signature verdict is safe.
  // Keyed by the token itself (no per-request key string built from a token of several hundred
  // characters), each entry kept until the token's own expiry; the environment it verified for is
  // compared on every hit, so a token never counts as verified for another one. Claims are
  // frozen: every request shares them.
  const verified = createTtlCache<{ projectId: string; environment: string; claims: JWTPayload }>({ ttlMs: 0, maxEntries: 20_000, clock });
  const cachedFor = (projectId: string, environment: string, token: string) => {
    const hit = verified.get(token);
    return hit && hit.projectId === projectId && hit.environment === environment ? hit.claims : undefined;
  };
  // Tokens refused for their signature, by environment and exact token text. Only that verdict is
  // kept: the kid named a key of this environment (kids are random and a key's material never
  // changes), and a signature check against one key is deterministic, so the same text can never
  // verify later. Never kept: unknown_key (the key may be another instance's newest, seen after a
  // reload), issuer_unavailable, session_revoked and the claim checks (cheap anyway, and time-bound).
  const refused = createTtlCache<{ projectId: string; environment: string; reason: TokenRejectReason }>({
    ttlMs: REFUSED_TTL_MS, maxEntries: REFUSED_MAX_ENTRIES, clock,
  });
  return {
    issuerUrls,
    accepts: (projectId, environment, iss) => typeof iss === 'string' && accepted(projectId, environment).includes(iss),
    async issue(projectId, environment, c) {
      const key = await keys.current(projectId, environment);
      const iat = Math.floor(clock.nowMs() / 1000);
      const exp = iat + ttlSeconds;
      const token = await new SignJWT(accessClaimsFor(projectId, environment, c))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setIssuer(issuerUrls.of(projectId, environment)).setIssuedAt(iat).setExpirationTime(exp)
        .sign(key.key);
      return { token, expiresIn: ttlSeconds, expiresAt: exp };
    },

    cached: cachedFor,

    refusedBefore(projectId, environment, token) {
      const hit = refused.get(token);
      return hit && hit.projectId === projectId && hit.environment === environment ? hit.reason : undefined;
    },

    async verify(projectId, environment, token, decoded) {
      const hit = cachedFor(projectId, environment, token);
      if (hit) return hit;
      let payload: JWTPayload;
      try {
        payload = await verifyUncached(projectId, environment, token, decoded ?? decodeUnverified(token));
      } catch (error) {
        if (error instanceof TokenRejected && error.reason === 'bad_signature' && token.length <= REFUSED_MAX_TOKEN_CHARS) {
          refused.set(token, { projectId, environment, reason: error.reason });
        }
        throw error;
      }
      const claims = deepFreeze(payload);
      verified.set(token, { projectId, environment, claims }, { ttlMs: (claims.exp as number) * 1000 - clock.nowMs() });
      return claims;
    },
  };

  /**
   * Cheapest refusals first: the header, the key its kid names, the claims (unverified), the
   * signature's shape and an ECDSA/EdDSA check (signature-precheck.ts); then jose verifies the
   * signature and claims again, and only its verdict accepts.
   */
  async function verifyUncached(projectId: string, environment: string, token: string, decoded: UnverifiedToken): Promise<JWTPayload> {
    const { header, payload } = decoded;
    checkHeader(header, SIGNING_ALGS);
    if (typeof header.kid !== 'string' || header.kid === '') throw new TokenRejected('kid_missing');
    // A token of another project environment names a kid this environment does not have:
    // it fails here, before its claims are read.
    const match = await findVerificationKey(keys, projectId, environment, header.kid);
    if (!match) {
      throw new TokenRejected(payload.project_id !== undefined && (payload.project_id !== projectId || payload.environment !== environment) ? 'wrong_project' : 'unknown_key');
    }
    if (match.alg !== header.alg) throw new TokenRejected('alg_not_allowed');
    const rules: ClaimRules = {
      algorithms: [match.alg], issuer: accepted(projectId, environment), audience: ACCESS_TOKEN_AUDIENCE, clockSkewS: clockSkewSeconds, now: clock.now(),
    };
    refuseByClaims(payload, rules);
    checkBinding(projectId, environment, payload);
    refuseForgedSignature(decoded, match.key, match.alg);
    const claims = await verifySignatureAndClaims(token, match.key, rules);
    checkBinding(projectId, environment, claims);
    return claims;
  }

  /** The claims name this environment and a session. Defence in depth: the key set is per environment already. */
  function checkBinding(projectId: string, environment: string, claims: JWTPayload): void {
    if (claims.project_id !== projectId || claims.environment !== environment) throw new TokenRejected('wrong_project');
    if (typeof claims.session_id !== 'string') throw new TokenRejected('missing_claim');
  }
}

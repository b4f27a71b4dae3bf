import { SignJWT } from 'jose';
import { GatehouseError } from '../errors/index.js';
import {
  checkHeader, decodeUnverified, findVerificationKey, SIGNING_ALGS, TokenRejected, verifySignatureAndClaims, type SigningKeyService,
} from '../identity/jwt/index.js';
import type { Clock } from '../shared/clock.js';

// Signed URLs: a JWT signed with the environment's own signing key (the one of its access tokens)
// and bound to the environment, bucket, name, operation, expiry and the object's version. So it
//   - works for that one object and operation only (a token for a.png does not open b.png);
//   - stops when the object is replaced (a new version) or, for an upload, once it has been used;
//   - stops when the key rotates out (keys verify for the access-token TTL after they retire).
// Its own audience keeps it apart from access tokens: neither passes for the other.

const AUDIENCE = 'gatehouse:storage';
const MAX_TOKEN_CHARS = 4096;

export type SignedOperation = 'download' | 'upload';

export interface SignedClaims {
  projectId: string;
  environment: string;
  bucket: string;
  name: string;
  op: SignedOperation;
  /** The object version signed for; '' for an upload to a name that has no object yet. */
  version: string;
  /** Upload: the user who asked, the new object's owner (null: a secret key). */
  owner: string | null;
  /** Upload: whether it may replace an existing object. */
  upsert: boolean;
  /** Upload: whether the owner was an admin user when the URL was made (rules see the admin group). */
  admin: boolean;
}

interface Payload {
  pid: string;
  env: string;
  b: string;
  n: string;
  op: SignedOperation;
  v: string;
  o: string | null;
  u: boolean;
  a?: boolean;
}

export function createUrlSigner({ keys, clock }: { keys: SigningKeyService; clock: Clock }) {
  const invalid = (reason: string) => new GatehouseError('storage_invalid_signature', { details: { reason } });
  return {
    async sign(claims: SignedClaims, expiresInS: number): Promise<string> {
      const key = await keys.current(claims.projectId, claims.environment);
      const nowS = Math.floor(clock.nowMs() / 1000);
      const payload: Payload = {
        pid: claims.projectId, env: claims.environment, b: claims.bucket, n: claims.name, op: claims.op, v: claims.version, o: claims.owner, u: claims.upsert, a: claims.admin,
      };
      return new SignJWT({ ...payload })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setAudience(AUDIENCE).setIssuer(AUDIENCE).setSubject(claims.op)
        .setIssuedAt(nowS).setExpirationTime(nowS + expiresInS)
        .sign(key.key);
    },

    /** The claims of a valid token for exactly this bucket, name and operation; else 400. */
    async verify(token: unknown, expected: { bucket: string; name: string; op: SignedOperation }): Promise<SignedClaims> {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) throw invalid('missing');
      let payload: Record<string, unknown>;
      let environment: { pid: unknown; env: unknown };
      try {
        // The access tokens' checks: header allowlist (no alg none, no key-pointing headers), the
        // key the kid names (reloaded once if unknown), then signature and claims.
        const unverified = decodeUnverified(token);
        checkHeader(unverified.header, SIGNING_ALGS);
        environment = { pid: unverified.payload.pid, env: unverified.payload.env };
        const kid = unverified.header.kid;
        if (typeof environment.pid !== 'string' || typeof environment.env !== 'string' || typeof kid !== 'string') throw invalid('malformed');
        const key = await findVerificationKey(keys, environment.pid, environment.env, kid);
        if (!key) throw invalid('unknown_key');
        payload = await verifySignatureAndClaims(token, key.key, { algorithms: [key.alg], issuer: AUDIENCE, audience: AUDIENCE, clockSkewS: 0, now: clock.now() });
      } catch (error) {
        if (error instanceof TokenRejected) throw invalid(error.reason);
        throw error;
      }
      const p = payload as unknown as Payload;
      // Claims are read only now, from the verified payload; the environment must be the one whose key verified.
      if (p.pid !== environment.pid || p.env !== environment.env) throw invalid('malformed');
      if (p.b !== expected.bucket || p.n !== expected.name || p.op !== expected.op) throw invalid('other_object');
      return {
        projectId: p.pid, environment: p.env, bucket: p.b, name: p.n, op: p.op,
        version: typeof p.v === 'string' ? p.v : '', owner: typeof p.o === 'string' ? p.o : null, upsert: p.u === true, admin: p.a === true,
      };
    },
  };
}

export type UrlSigner = ReturnType<typeof createUrlSigner>;

import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Keyring } from '../../crypto/index.js';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { createTtlCache } from '../../shared/ttl-cache.js';

export type SigningAlg = 'ES256' | 'EdDSA';

/** Every algorithm a Gatehouse signing key may use: the allowlist a token's header is checked against. */
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA'];

export interface VerificationKey {
  kid: string;
  alg: string;
  publicJwk: JWK;
  key: CryptoKey;
}

export interface SigningKeySummary {
  kid: string;
  alg: string;
  created_at: string;
  retired_at: string | null;
  status: 'signing' | 'verifying' | 'expired';
}

export interface SigningKeyService {
  /** The key that signs new tokens of this environment; made on first use. */
  current(projectId: string, environment: string): Promise<{ kid: string; alg: string; key: CryptoKey }>;
  /** Keys whose tokens may still be alive: the signing key and recently retired ones. */
  verificationKeys(projectId: string, environment: string, options?: { reload?: boolean }): Promise<VerificationKey[]>;
  /** A new key signs from now on; the previous one verifies until its last token expires. */
  rotate(projectId: string, environment: string): Promise<{ kid: string; previous: string | null }>;
  list(projectId: string, environment: string): Promise<SigningKeySummary[]>;
}

export interface SigningKeyOptions {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  alg: SigningAlg;
  /** A retired key verifies this long after retirement: the access token TTL plus clock skew. */
  verifyGraceSeconds: number;
  /** Milliseconds the verification set is cached per environment. */
  cacheMs?: number;
}

const scopeOf = (projectId: string, environment: string) => `${projectId}/${environment}`;

export function createSigningKeyService(options: SigningKeyOptions): SigningKeyService {
  const { db, keyring, clock, alg, verifyGraceSeconds, cacheMs = 5000 } = options;
  // Re-read now and then: another instance may have rotated the key.
  // A promise per environment: one creation per environment per process even under a burst of first sign-ins.
  const signing = createTtlCache<Promise<{ kid: string; alg: string; key: CryptoKey }>>({ ttlMs: 60_000, clock });
  const verifying = createTtlCache<{ loadedAtMs: number; keys: VerificationKey[] }>({ ttlMs: cacheMs, clock });

  async function createKey(projectId: string, environment: string): Promise<{ kid: string; alg: string; key: CryptoKey }> {
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = newId('sk');
    const privateJwk = await exportJWK(pair.privateKey);
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
    const sealed = await keyring.encrypt(scopeOf(projectId, environment), JSON.stringify(privateJwk), `signing_key:${kid}`);
    await db.insertInto('identity_signing_keys').values({
      kid, project_id: projectId, environment, alg, private_jwk: sealed, public_jwk: JSON.stringify(publicJwk), created_at: isoNow(clock), retired_at: null,
    }).execute();
    verifying.delete(scopeOf(projectId, environment));
    return { kid, alg, key: pair.privateKey };
  }

  async function loadCurrent(projectId: string, environment: string) {
    const row = await db.selectFrom('identity_signing_keys').selectAll()
      .where('project_id', '=', projectId).where('environment', '=', environment).where('retired_at', 'is', null)
      .orderBy('created_at', 'desc').orderBy('kid', 'desc').limit(1).executeTakeFirst();
    if (!row) return createKey(projectId, environment);
    const jwk = JSON.parse(await keyring.decryptString(scopeOf(projectId, environment), row.private_jwk, `signing_key:${row.kid}`)) as JWK;
    return { kid: row.kid, alg: row.alg, key: (await importJWK(jwk, row.alg)) as CryptoKey };
  }

  return {
    async current(projectId, environment) {
      return signing.getOrLoad(scopeOf(projectId, environment), () => loadCurrent(projectId, environment));
    },

    async verificationKeys(projectId, environment, { reload = false } = {}) {
      const scope = scopeOf(projectId, environment);
      const nowMs = clock.nowMs();
      const cached = verifying.get(scope);
      // A reload on an unknown kid is throttled to once a second: random kids must not become a DB flood.
      if (cached && (!reload || nowMs - cached.loadedAtMs < 1000)) return cached.keys;
      const oldest = new Date(nowMs - verifyGraceSeconds * 1000).toISOString();
      const rows = await db.selectFrom('identity_signing_keys').select(['kid', 'alg', 'public_jwk'])
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', oldest)]))
        .execute();
      const keys = await Promise.all(rows.map(async (r) => {
        const publicJwk = JSON.parse(r.public_jwk) as JWK;
        return { kid: r.kid, alg: r.alg, publicJwk, key: (await importJWK(publicJwk, r.alg)) as CryptoKey };
      }));
      verifying.set(scope, { loadedAtMs: nowMs, keys });
      return keys;
    },

    async rotate(projectId, environment) {
      const scope = scopeOf(projectId, environment);
      const previous = await db.selectFrom('identity_signing_keys').select('kid')
        .where('project_id', '=', projectId).where('environment', '=', environment).where('retired_at', 'is', null).execute();
      await db.updateTable('identity_signing_keys').set({ retired_at: isoNow(clock) })
        .where('project_id', '=', projectId).where('environment', '=', environment).where('retired_at', 'is', null).execute();
      signing.delete(scope);
      const created = await createKey(projectId, environment);
      signing.set(scope, Promise.resolve(created));
      return { kid: created.kid, previous: previous[0]?.kid ?? null };
    },

    async list(projectId, environment) {
      const nowMs = clock.nowMs();
      const rows = await db.selectFrom('identity_signing_keys').select(['kid', 'alg', 'created_at', 'retired_at'])
        .where('project_id', '=', projectId).where('environment', '=', environment).orderBy('created_at', 'desc').execute();
      return rows.map((r) => ({
        ...r,
        status: r.retired_at === null ? 'signing' as const
          : Date.parse(r.retired_at) + verifyGraceSeconds * 1000 > nowMs ? 'verifying' as const : 'expired' as const,
      }));
    },
  };
}

/**
 * The verification key a token's `kid` names. An unknown kid reloads the set once (throttled in
 * the service): the key may have been made by another instance since this one cached the set.
 */
export async function findVerificationKey(keys: SigningKeyService, projectId: string, environment: string, kid: string): Promise<VerificationKey | undefined> {
  const match = (await keys.verificationKeys(projectId, environment)).find((k) => k.kid === kid);
  return match ?? (await keys.verificationKeys(projectId, environment, { reload: true })).find((k) => k.kid === kid);
}

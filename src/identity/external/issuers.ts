import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { Keyring } from '../../crypto/index.js';
import type { Database } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import { isUniqueViolation } from '../accounts/index.js';

export type IssuerKind = 'supabase' | 'firebase' | 'oidc';

/** What an admin sends to add an issuer; shape depends on `kind`. */
export interface IssuerInput {
  kind: IssuerKind;
  name?: string;
  /** supabase / oidc: the `iss` value, e.g. https://<ref>.supabase.co/auth/v1. */
  issuer?: string;
  /** firebase: the Firebase project id (iss and aud derive from it). */
  firebase_project_id?: string;
  audience?: string;
  jwks_url?: string;
  /** supabase legacy: the project's HS256 JWT secret. */
  hmac_secret?: string;
  algorithms?: string[];
}

export interface Issuer {
  id: string;
  kind: IssuerKind;
  name: string;
  issuer: string;
  audience: string;
  jwksUrl: string | null;
  hasHmacSecret: boolean;
  algorithms: string[];
  createdAt: string;
}

const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const HMAC = new Set(['HS256', 'HS384', 'HS512']);
export const FIREBASE_JWKS_URL = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

function bad(message: string, field: string): GatehouseError {
  return new GatehouseError('validation_failed', { message, details: { field } });
}

function checkUrl(value: string, field: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(`${field} must be a URL.`, field);
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) throw bad(`${field} must be https.`, field);
  if (url.username || url.password) throw bad(`${field} must not carry credentials.`, field);
  // In production an issuer URL may not name this host or a private network by address: the
  // admin API must not become a way to make Gatehouse probe its own neighbourhood (SSRF).
  // (A public name resolving to a private address is the operator's network policy to stop.)
  if (!allowHttp && isInternalHost(url.hostname)) throw bad(`${field} must be a public https URL.`, field);
  return url.toString();
}

/** Loopback, private, link-local (cloud metadata), CGNAT, unspecified: by literal address or well-known name. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return true;
  const kind = isIP(host);
  if (kind === 4) return isInternalV4(host);
  if (kind === 6) {
    if (host === '::' || host === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped) return isInternalV4(mapped[1]!);
    if (host.startsWith('::ffff:')) return true; // hex-form mapped v4: refuse rather than decode
    return /^(fc|fd|fe8|fe9|fea|feb)/.test(host);
  }
  // A bare number or hex (http://2130706433/) is an IPv4 address to the resolver.
  return /^(0x[0-9a-f]+|\d+)$/.test(host);
}

function isInternalV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31)
    || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
}

/**
 * Normalises an issuer definition. An issuer is either HMAC (a shared secret)
 * or public-key (a JWKS), never both: mixing them is exactly what the
 * HMAC/public-key confusion attack needs (RFC 8725 §2.1, §3.1).
 */
export function normalizeIssuer(input: IssuerInput, allowHttp: boolean) {
  const kind = input.kind;
  let issuer: string;
  let audience: string;
  let jwksUrl: string | null = null;
  let algorithms: string[];
  if (kind === 'firebase') {
    const id = input.firebase_project_id ?? '';
    if (!/^[a-z0-9-]{4,64}$/.test(id)) throw bad('firebase_project_id must be a Firebase project id.', 'firebase_project_id');
    issuer = `https://securetoken.google.com/${id}`;
    audience = id;
    jwksUrl = checkUrl(input.jwks_url ?? FIREBASE_JWKS_URL, 'jwks_url', allowHttp);
    algorithms = input.algorithms ?? ['RS256'];
  } else {
    if (!input.issuer) throw bad('issuer is required.', 'issuer');
    issuer = input.issuer;
    audience = input.audience ?? (kind === 'supabase' ? 'authenticated' : '');
    if (!audience) throw bad('audience is required.', 'audience');
    if (kind === 'supabase' && input.hmac_secret) {
      if (input.jwks_url) throw bad('Give either hmac_secret or jwks_url, not both.', 'jwks_url');
      if (input.hmac_secret.length < 32) throw bad('hmac_secret must be at least 32 characters.', 'hmac_secret');
      algorithms = input.algorithms ?? ['HS256'];
    } else {
      if (input.hmac_secret) throw bad('hmac_secret is only for Supabase issuers.', 'hmac_secret');
      const url = input.jwks_url ?? (kind === 'supabase' ? `${issuer.replace(/\/$/, '')}/.well-known/jwks.json` : '');
      if (!url) throw bad('jwks_url is required.', 'jwks_url');
      jwksUrl = checkUrl(url, 'jwks_url', allowHttp);
      algorithms = input.algorithms ?? ['RS256', 'ES256'];
    }
  }
  const allowed = input.hmac_secret ? HMAC : ASYMMETRIC;
  if (algorithms.length === 0 || !algorithms.every((a) => allowed.has(a))) {
    throw bad(`algorithms must be a non-empty subset of ${[...allowed].join(', ')} for this issuer.`, 'algorithms');
  }
  return { kind, name: input.name ?? issuer, issuer, audience, jwksUrl, algorithms };
}

export interface IssuerService {
  create(projectId: string, environment: string, input: IssuerInput): Promise<Issuer>;
  list(projectId: string, environment: string): Promise<Issuer[]>;
  remove(projectId: string, environment: string, id: string): Promise<Issuer | null>;
  /** The issuer whose `iss` matches, with its HMAC secret if it has one (cached briefly). */
  findByIss(projectId: string, environment: string, iss: string): Promise<(Issuer & { hmacSecret: Uint8Array | null }) | null>;
}

export function createIssuerService(d: { db: Kysely<Database>; keyring: Keyring; clock: Clock; allowHttp: boolean; cacheMs?: number }): IssuerService {
  const { db, keyring, clock, allowHttp, cacheMs = 2000 } = d;
  const cache = createTtlCache<Promise<Array<Issuer & { hmacSecret: Uint8Array | null }>>>({ ttlMs: cacheMs, clock });
  const scopeOf = (p: string, e: string) => `${p}/${e}`;
  const toIssuer = (r: { id: string; kind: string; name: string; issuer: string; audience: string; jwks_url: string | null; hmac_secret: string | null; algorithms: string; created_at: string }): Issuer => ({
    id: r.id, kind: r.kind as IssuerKind, name: r.name, issuer: r.issuer, audience: r.audience, jwksUrl: r.jwks_url,
    hasHmacSecret: r.hmac_secret !== null, algorithms: JSON.parse(r.algorithms) as string[], createdAt: r.created_at,
  });
  const rows = (p: string, e: string) => db.selectFrom('identity_issuers').selectAll().where('project_id', '=', p).where('environment', '=', e).orderBy('created_at', 'asc').execute();

  return {
    async create(projectId, environment, input) {
      const n = normalizeIssuer(input, allowHttp);
      const id = newId('iss');
      const sealed = input.hmac_secret ? await keyring.encrypt(scopeOf(projectId, environment), input.hmac_secret, `issuer_secret:${id}`) : null;
      const row = {
        id, project_id: projectId, environment, kind: n.kind, name: n.name, issuer: n.issuer, audience: n.audience, jwks_url: n.jwksUrl,
        hmac_secret: sealed, algorithms: JSON.stringify(n.algorithms), created_at: isoNow(clock),
      };
      try {
        await db.insertInto('identity_issuers').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatehouseError('conflict', { message: 'An issuer with this iss already exists in this environment.' });
        throw error;
      }
      cache.delete(scopeOf(projectId, environment));
      return toIssuer(row);
    },
    async list(projectId, environment) {
      return (await rows(projectId, environment)).map(toIssuer);
    },
    async remove(projectId, environment, id) {
      const row = await db.selectFrom('identity_issuers').selectAll().where('id', '=', id).where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
      if (!row) return null;
      await db.deleteFrom('identity_issuers').where('id', '=', id).execute();
      cache.delete(scopeOf(projectId, environment));
      return toIssuer(row);
    },
    async findByIss(projectId, environment, iss) {
      const scope = scopeOf(projectId, environment);
      const issuers = await cache.getOrLoad(scope, async () => Promise.all((await rows(projectId, environment)).map(async (r) => ({
        ...toIssuer(r),
        hmacSecret: r.hmac_secret ? new TextEncoder().encode(await keyring.decryptString(scope, r.hmac_secret, `issuer_secret:${r.id}`)) : null,
      }))));
      return issuers.find((i) => i.issuer === iss) ?? null;
    },
  };
}

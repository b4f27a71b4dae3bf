import type { PublicBase } from '../../shared/public-base.js';

/**
 * The issuer (`iss`) of each project environment, and the URLs published under it.
 *
 * Shape: `<public base>/auth/v1/projects/<project id>/<environment>`, e.g.
 * `https://api.example.com/auth/v1/projects/abcdefghijklmnop/prod`. Why this shape:
 *   - one issuer per environment, so that a service which pins `issuer` in `jwtVerify` refuses
 *     the tokens of every other project and environment of the same server, by claim and not
 *     only by key (OIDC Core §3.1.3.7 step 2; RFC 8725 §3.8);
 *   - a path, not a host name per project as Supabase's `https://<ref>.supabase.co/auth/v1`: a
 *     self-hosted server has one host name;
 *   - under `/auth/v1` like GoTrue's, so that `<iss>/.well-known/jwks.json` (what Supabase
 *     tooling, and our own `supabase` external-issuer kind, derive from an issuer) is the key set;
 *   - a fixed `projects` segment, so that no project id can ever collide with a GoTrue route
 *     (`/auth/v1/user`, `/auth/v1/token`, …), today's or a future one;
 *   - the project id and environment name as they are, with no lookup table: both are already
 *     public (every publishable key starts `pk_<env>_<project id>_`).
 */
export const ISSUERS_UNDER_AUTH = '/projects';
const ISSUER_PATH_PREFIX = `/auth/v1${ISSUERS_UNDER_AUTH}`;

export interface IssuerUrls {
  /** The `iss` of this environment's tokens, also the base of its public discovery document and JWKS. */
  of(projectId: string, environment: string): string;
  /** `<issuer>/.well-known/jwks.json`, unauthenticated. */
  jwksUrl(projectId: string, environment: string): string;
  /**
   * The one `iss` every token carried before issuers were per environment (`<public base>/auth/v1`,
   * `urn:gatehouse/auth/v1` without a public URL). Gatehouse no longer mints it; it still accepts it
   * so that an upgrade does not sign everyone out: such tokens are signed by the environment's own
   * key and name it in `project_id`/`environment`, and the last of them expires one access-token
   * TTL after the upgrade.
   */
  readonly legacy: string;
  /** Whether `iss` is an issuer of this server: one of its environments', or the legacy one. */
  isOwn(iss: string): boolean;
}

export function createIssuerUrls(base: PublicBase, legacyBase: string): IssuerUrls {
  const of = (projectId: string, environment: string) => `${base.url()}${ISSUER_PATH_PREFIX}/${projectId}/${environment}`;
  const legacy = `${legacyBase.replace(/\/+$/, '')}/auth/v1`;
  return {
    of,
    jwksUrl: (projectId, environment) => `${of(projectId, environment)}/.well-known/jwks.json`,
    legacy,
    isOwn: (iss) => iss === legacy || iss.startsWith(`${base.url()}${ISSUER_PATH_PREFIX}/`),
  };
}

export { createPublicBase, type PublicBase } from '../../shared/public-base.js';

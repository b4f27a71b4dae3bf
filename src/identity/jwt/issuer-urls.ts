import type { AddressInfo } from 'node:net';

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

/** Where the public URLs of this server start (GATEHOUSE_PUBLIC_URL, else the listen address). */
export interface PublicBase {
  url(): string;
  /** Development without a public URL: the issuer follows the address this server listens on. */
  listenOn(server: { address(): AddressInfo | string | null }): void;
}

/**
 * GATEHOUSE_PUBLIC_URL, which production requires; never the request's Host or X-Forwarded-Host,
 * which a client could choose (and with it the `iss` a token is minted or checked with). In
 * development without one: the address the server listens on (loopback for a wildcard address),
 * else, before it listens (in-process tests), the configured host and port. All of them are the
 * operator's choice.
 */
export function createPublicBase(config: { publicUrl?: string; tls?: unknown; host: string; port: number }): PublicBase {
  const fixed = config.publicUrl?.replace(/\/+$/, '');
  const scheme = config.tls ? 'https' : 'http';
  let server: { address(): AddressInfo | string | null } | null = null;
  const origin = (host: string, port: number) => {
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  };
  return {
    url() {
      if (fixed) return fixed;
      const address = server?.address();
      return address && typeof address !== 'string' ? origin(address.address, address.port) : origin(config.host, config.port);
    },
    listenOn(s) {
      server = s;
    },
  };
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

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors/index.js';
import type { Clock } from '../../shared/clock.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import type { ProjectService } from '../../tenancy/index.js';
import { PROJECT_ID_PATTERN } from '../api-keys/index.js';
import type { Identity } from '../identity.js';
import { ISSUERS_UNDER_AUTH } from '../jwt/index.js';
import { JwksJson, publishedKeys, sendKeySet } from './jwks.js';

export interface OidcRoutesOptions {
  identity: Identity;
  projects: Pick<ProjectService, 'get'>;
  clock: Clock;
}

/**
 * Public documents need no key and are no one's in particular: any origin may read them, and no
 * caller is identified, so the per-address limit is the only one (as on every public route).
 */
const PUBLIC_DOCUMENT = { auth: 'public', routeClass: 'default' } as const;

/** Discovery says which key set to fetch; it changes only with the signing algorithm. */
const DISCOVERY_CACHE_CONTROL = 'public, max-age=300';

const Params = Type.Object({ project: Type.String(), environment: Type.String() });

const Discovery = Type.Object({
  issuer: Type.String(),
  jwks_uri: Type.String(),
  response_types_supported: Type.Array(Type.String()),
  subject_types_supported: Type.Array(Type.String()),
  id_token_signing_alg_values_supported: Type.Array(Type.String()),
});

/**
 * Under each environment's issuer (`/auth/v1/projects/<project>/<environment>`, see
 * jwt/issuer-urls.ts), what every OIDC provider publishes without authentication, so that any
 * service verifies its tokens with a stock library and no Gatehouse-specific header:
 *   GET <issuer>/.well-known/openid-configuration   OpenID Connect Discovery 1.0 §4
 *   GET <issuer>/.well-known/jwks.json              RFC 7517 key set
 * An unknown project or environment is a 404 like any other path: it tells no more than whether
 * a project id exists, which every publishable key of that project spells out anyway.
 */
export async function oidcRoutes(app: FastifyInstance, { identity, projects, clock }: OidcRoutesOptions): Promise<void> {
  // A flood of requests for one issuer costs one lookup per few seconds, not one each.
  const known = createTtlCache<Promise<boolean>>({ ttlMs: 5000, maxEntries: 1000, clock });
  const exists = (projectId: string, environment: string): Promise<boolean> => {
    if (!PROJECT_ID_PATTERN.test(projectId)) return Promise.resolve(false);
    return known.getOrLoad(`${projectId}/${environment}`, async () =>
      (await projects.get(projectId))?.environments.some((e) => e.name === environment) ?? false);
  };
  const scopeOf = async (params: { project: string; environment: string }) => {
    if (!(await exists(params.project, params.environment))) throw new GatehouseError('not_found', { message: 'No such issuer.' });
    return { projectId: params.project, environment: params.environment };
  };

  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Set before the handler runs, so that a 404 is readable from a browser too. The CORS stage
  // leaves a response that already names its readers alone.
  r.addHook('onRequest', async (_request, reply) => {
    reply.header('Access-Control-Allow-Origin', '*');
  });

  r.get(`${ISSUERS_UNDER_AUTH}/:project/:environment/.well-known/openid-configuration`, {
    config: PUBLIC_DOCUMENT,
    schema: { tags: ['auth'], summary: 'OpenID Connect discovery document of an environment\'s issuer (public)', security: [], params: Params, response: { 200: Discovery } },
  }, async (request, reply) => {
    const { projectId, environment } = await scopeOf(request.params);
    const algs = [...new Set((await publishedKeys(identity, projectId, environment)).map((k) => String(k.alg)))];
    reply.header('Cache-Control', DISCOVERY_CACHE_CONTROL);
    // Only what is true. Gatehouse has no authorization endpoint (its grants, password and
    // refresh_token, do not use one, so RFC 8414 §2 lets it be absent) and thus no response
    // type: the list OIDC Discovery §3 requires is empty. `sub` is the user's id for every
    // client: the `public` subject type.
    return {
      issuer: identity.tokens.issuerUrls.of(projectId, environment),
      jwks_uri: identity.tokens.issuerUrls.jwksUrl(projectId, environment),
      response_types_supported: [],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: algs,
    };
  });

  r.get(`${ISSUERS_UNDER_AUTH}/:project/:environment/.well-known/jwks.json`, {
    config: PUBLIC_DOCUMENT,
    schema: { tags: ['auth'], summary: 'Public signing keys (JWKS) of an environment\'s issuer (public)', security: [], params: Params, response: { 200: JwksJson } },
  }, async (request, reply) => {
    const { projectId, environment } = await scopeOf(request.params);
    return sendKeySet(reply, identity, projectId, environment);
  });
}

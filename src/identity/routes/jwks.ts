import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.js';
import { SIGNED_IN_ROUTE, scopeOf, type AuthRoutesOptions } from './context.js';

export const JwksJson = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) });

/**
 * How long an HTTP cache may serve a key set. A rotation publishes the new key at the moment it
 * starts signing: a shared cache (CDN, reverse proxy) still serving the older set would make
 * downstream services refuse every new token until it expires, so this stays short. Verifiers
 * keep their own copy anyway (jose's createRemoteJWKSet: 10 min, refetched on an unknown kid).
 */
const KEY_SET_CACHE_CONTROL = 'public, max-age=60';

/**
 * The public keys a token of this environment may still be verified with: the signing key and
 * the rotated-out ones within their grace (public halves only: `publicJwk` never holds `d`).
 * The signing key is made first if there is none yet, so that a verifier can fetch the set
 * before the first sign-in.
 */
export async function publishedKeys(identity: Identity, projectId: string, environment: string): Promise<Array<Record<string, unknown>>> {
  await identity.signingKeys.current(projectId, environment);
  const keys = await identity.signingKeys.verificationKeys(projectId, environment);
  return keys.map((k) => k.publicJwk as Record<string, unknown>);
}

export async function sendKeySet(reply: FastifyReply, identity: Identity, projectId: string, environment: string) {
  const keys = await publishedKeys(identity, projectId, environment);
  reply.header('Cache-Control', KEY_SET_CACHE_CONTROL);
  return { keys };
}

/**
 * GET /.well-known/jwks.json: the public keys of the caller's project environment, for
 * supabase-js (`auth.getClaims()` fetches this path with its apikey). Services that have no key
 * use the environment issuer's public set instead (oidc.ts).
 */
export async function jwksRoutes(app: FastifyInstance, { identity }: AuthRoutesOptions): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/.well-known/jwks.json', {
    config: SIGNED_IN_ROUTE,
    schema: { tags: ['auth'], summary: 'Public signing keys (JWKS) of the key\'s environment', response: { 200: JwksJson } },
  }, async (request, reply) => {
    const { projectId, environment } = scopeOf(request);
    return sendKeySet(reply, identity, projectId, environment);
  });
}

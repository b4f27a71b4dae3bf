import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SIGNED_IN_ROUTE, scopeOf, type AuthRoutesOptions } from './context.js';

/**
 * GET /.well-known/jwks.json: the public keys of the caller's project
 * environment (signing and still-verifying ones), so that other services can
 * verify Gatehouse tokens offline. The key names the environment.
 */
export async function jwksRoutes(app: FastifyInstance, { identity }: AuthRoutesOptions): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/.well-known/jwks.json', {
    config: SIGNED_IN_ROUTE,
    schema: { tags: ['auth'], summary: 'Public signing keys (JWKS)', response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) } },
  }, async (request, reply) => {
    const { projectId, environment } = scopeOf(request);
    // Make sure a key exists, so that a verifier can fetch the set before the first sign-in.
    await identity.signingKeys.current(projectId, environment);
    const keys = await identity.signingKeys.verificationKeys(projectId, environment);
    reply.header('Cache-Control', 'public, max-age=300');
    return { keys: keys.map((k) => k.publicJwk as Record<string, unknown>) };
  });
}

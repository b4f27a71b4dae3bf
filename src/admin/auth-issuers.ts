import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Issuer } from '../identity/index.js';
import { actingOf, type AdminContext } from './context.js';

const IssuerJson = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.String(), issuer: Type.String(), audience: Type.String(),
  jwks_url: Type.Union([Type.String(), Type.Null()]), has_hmac_secret: Type.Boolean(), algorithms: Type.Array(Type.String()), created_at: Type.String(),
});

export function toIssuerJson(i: Issuer) {
  return {
    id: i.id, kind: i.kind, name: i.name, issuer: i.issuer, audience: i.audience, jwks_url: i.jwksUrl,
    has_hmac_secret: i.hasHmacSecret, algorithms: i.algorithms, created_at: i.createdAt,
  };
}

/** External token issuers (Supabase, Firebase, OIDC) trusted by this project environment (issue #3 §5). */
export async function issuerRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:auth', routeClass: 'admin' } as const;
  const tags = ['admin: auth'];

  r.get('/auth/issuers', {
    config, schema: { tags, summary: 'List external issuers', response: { 200: Type.Object({ issuers: Type.Array(IssuerJson) }) } },
  }, async (request) => ({ issuers: (await operations.auth.issuers(actingOf(request))).map(toIssuerJson) }));

  r.post('/auth/issuers', {
    config,
    schema: {
      tags, summary: 'Trust an external issuer (secret key only): supabase (hmac_secret or jwks_url), firebase (firebase_project_id) or oidc (issuer, jwks_url, audience)',
      body: Type.Object({
        kind: Type.Union([Type.Literal('supabase'), Type.Literal('firebase'), Type.Literal('oidc')]),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        firebase_project_id: Type.Optional(Type.String({ maxLength: 64 })),
        audience: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        jwks_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
        hmac_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Write-only; stored encrypted.' })),
        algorithms: Type.Optional(Type.Array(Type.String({ maxLength: 10 }), { minItems: 1, maxItems: 10 })),
      }, { additionalProperties: false }),
      response: { 201: IssuerJson },
    },
  }, async (request, reply) => reply.code(201).send(toIssuerJson(await operations.auth.addIssuer(actingOf(request), request.body))));

  r.delete('/auth/issuers/:id', {
    config, schema: { tags, summary: 'Stop trusting an issuer', params: Type.Object({ id: Type.String({ pattern: '^iss_[a-z2-7]{20}$' }) }) },
  }, async (request, reply) => {
    await operations.auth.removeIssuer(actingOf(request), request.params.id);
    return reply.code(204).send();
  });
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiKeySummary } from '../identity/api-keys/index.js';
import { MAX_ROTATION_GRACE_SECONDS } from '../operations/index.js';
import { actingOf, type AdminContext } from './context.js';
import { CreatedKey, KeyIdParams, KeySummary, ScopeList } from './schemas.js';

export function toKeyJson(s: ApiKeySummary) {
  return {
    id: s.id, name: s.name, kind: s.kind, environment: s.environment, display: s.display, scopes: s.scopes,
    created_at: s.createdAt, last_used_at: s.lastUsedAt, expires_at: s.expiresAt, revoked_at: s.revokedAt,
    replaced_by: s.replacedBy, created_by: s.createdBy, status: s.status,
  };
}

export async function keyRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:keys', routeClass: 'admin' } as const;
  const tags = ['admin: keys'];

  r.get('/keys', {
    config,
    schema: { tags, summary: 'List the API keys of this project environment that the caller may manage', response: { 200: Type.Object({ keys: Type.Array(KeySummary) }) } },
  }, async (request) => ({ keys: (await operations.keys.list(actingOf(request))).map(toKeyJson) }));

  r.post('/keys', {
    config,
    schema: {
      tags,
      summary: 'Create an API key (shown once)',
      description: 'Only a secret key creates secret keys; an admin user may create publishable keys, which work only while that user is admin. ' +
        'A scoped key creates keys within its own scopes only.',
      body: Type.Object({
        kind: Type.Union([Type.Literal('publishable'), Type.Literal('secret')]),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        scopes: Type.Optional(Type.Union([ScopeList, Type.Null()])),
        expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
      }, { additionalProperties: false }),
      response: { 201: CreatedKey },
    },
  }, async (request, reply) => {
    const { kind, name, scopes, expires_at: expiresAt } = request.body;
    const created = await operations.keys.create(actingOf(request), { kind, name, scopes, expiresAt });
    return reply.code(201).send({ key: created.key, ...toKeyJson(created.summary) });
  });

  r.post('/keys/:id/revoke', {
    config,
    schema: { tags, summary: 'Revoke a key now (stops working within a second everywhere)', params: KeyIdParams, response: { 200: KeySummary } },
  }, async (request) => toKeyJson(await operations.keys.revoke(actingOf(request), request.params.id)));

  r.post('/keys/:id/rotate', {
    config,
    schema: {
      tags,
      summary: 'Issue a successor key; the old one keeps working for the grace period',
      params: KeyIdParams,
      // A query parameter, not a body: the action is a bodiless POST.
      // No maximum here: the action caps it, with the same error for every front end.
      querystring: Type.Object({ grace_seconds: Type.Optional(Type.Integer({ minimum: 0, description: `At most ${MAX_ROTATION_GRACE_SECONDS} (30 days).` })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ ...CreatedKey.properties, previous: KeySummary }) },
    },
  }, async (request, reply) => {
    const rotated = await operations.keys.rotate(actingOf(request), request.params.id, request.query.grace_seconds);
    return reply.code(201).send({ key: rotated.key, ...toKeyJson(rotated.summary), previous: toKeyJson(rotated.previous) });
  });
}

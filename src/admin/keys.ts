import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import { hasScope, type ApiKeySummary } from '../identity/api-keys/index.js';
import type { Caller } from '../http/index.js';
import type { AdminContext } from './context.js';
import { actorOf, callerOf } from './context.js';
import { CreatedKey, KeyIdParams, KeySummary, ScopeList } from './schemas.js';

export function toKeyJson(s: ApiKeySummary) {
  return {
    id: s.id, name: s.name, kind: s.kind, environment: s.environment, display: s.display, scopes: s.scopes,
    created_at: s.createdAt, last_used_at: s.lastUsedAt, expires_at: s.expiresAt, revoked_at: s.revokedAt,
    replaced_by: s.replacedBy, status: s.status,
  };
}

/**
 * A scoped key may only manage keys no more powerful than itself: otherwise
 * `admin:keys` alone could mint or rotate into an unscoped secret key.
 */
function assertWithinCallerScopes(caller: Caller, scopes: string[] | null): void {
  const own = caller.key.scopes;
  if (own === null) return;
  if (scopes === null || !scopes.every((s) => hasScope(own, s))) {
    throw new GatehouseError('insufficient_scope', {
      message: 'A scoped key can only create or rotate keys whose scopes it holds itself.',
      details: { caller_scopes: own },
    });
  }
}

export async function keyRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:keys', routeClass: 'admin' } as const;
  const tags = ['admin: keys'];

  r.get('/keys', {
    config,
    schema: { tags, summary: 'List the API keys of this project environment', response: { 200: Type.Object({ keys: Type.Array(KeySummary) }) } },
  }, async (request) => {
    const caller = callerOf(request);
    return { keys: (await deps.apiKeys.list(caller.projectId, caller.environment)).map(toKeyJson) };
  });

  r.post('/keys', {
    config,
    schema: {
      tags,
      summary: 'Create an API key (shown once)',
      body: Type.Object({
        kind: Type.Union([Type.Literal('publishable'), Type.Literal('secret')]),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        scopes: Type.Optional(Type.Union([ScopeList, Type.Null()])),
        expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
      }, { additionalProperties: false }),
      response: { 201: CreatedKey },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const scopes = request.body.scopes ?? null;
    assertWithinCallerScopes(caller, scopes);
    const created = await deps.apiKeys.create({
      projectId: caller.projectId, environment: caller.environment, kind: request.body.kind,
      name: request.body.name, scopes, expiresAt: request.body.expires_at ?? null,
    });
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'api_key.create', target: created.summary.id, details: { kind: request.body.kind, scopes } });
    return reply.code(201).send({ key: created.key, ...toKeyJson(created.summary) });
  });

  r.post('/keys/:id/revoke', {
    config,
    schema: { tags, summary: 'Revoke a key now (stops working within a second everywhere)', params: KeyIdParams, response: { 200: KeySummary } },
  }, async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const caller = callerOf(request);
    const revoked = await deps.apiKeys.revoke(caller.projectId, caller.environment, request.params.id);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'api_key.revoke', target: revoked.id });
    return toKeyJson(revoked);
  });

  r.post('/keys/:id/rotate', {
    config,
    schema: {
      tags,
      summary: 'Issue a successor key; the old one keeps working for the grace period',
      params: KeyIdParams,
      // A query parameter, not a body: the action is a bodiless POST.
      querystring: Type.Object({ grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86400 })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ ...CreatedKey.properties, previous: KeySummary }) },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const existing = (await deps.apiKeys.list(caller.projectId, caller.environment)).find((k) => k.id === request.params.id);
    if (existing) assertWithinCallerScopes(caller, existing.scopes);
    const rotated = await deps.apiKeys.rotate(caller.projectId, caller.environment, request.params.id, request.query.grace_seconds);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'api_key.rotate', target: request.params.id, details: { successor: rotated.summary.id } });
    return reply.code(201).send({ key: rotated.key, ...toKeyJson(rotated.summary), previous: toKeyJson(rotated.previous) });
  });
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import { assertMayManageKey, mayManageKey, type ApiKeySummary, type KeyPower } from '../identity/api-keys/index.js';
import type { Caller } from '../http/index.js';
import type { AdminContext } from './context.js';
import { actorOf, callerOf, requireSecretKey } from './context.js';
import { CreatedKey, KeyIdParams, KeySummary, ScopeList } from './schemas.js';

export function toKeyJson(s: ApiKeySummary) {
  return {
    id: s.id, name: s.name, kind: s.kind, environment: s.environment, display: s.display, scopes: s.scopes,
    created_at: s.createdAt, last_used_at: s.lastUsedAt, expires_at: s.expiresAt, revoked_at: s.revokedAt,
    replaced_by: s.replacedBy, created_by: s.createdBy, status: s.status,
  };
}

/**
 * The caller's power over keys. A secret key acts for itself; an admin user came with a
 * publishable key, so it may touch publishable keys only, within that key's scopes, and the
 * keys it makes are recorded as the user's (they stop working when the user stops being admin).
 */
function keyActor(caller: Caller): { power: KeyPower; createdBy: string } {
  if (caller.key.kind === 'secret') return { power: { kind: 'secret', scopes: caller.key.scopes }, createdBy: `key:${caller.key.id}` };
  if (!caller.user) throw new GatehouseError('secret_key_required'); // unreachable behind auth: 'secret'; fail closed
  return { power: { kind: 'publishable', scopes: caller.key.scopes }, createdBy: `user:${caller.user.id}` };
}

export async function keyRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:keys', routeClass: 'admin' } as const;
  const tags = ['admin: keys'];

  /** Unknown ids are 404 (as in another environment); known keys beyond the caller's power are refused. */
  async function assertMayManage(caller: Caller, id: string, verb: string) {
    const actor = keyActor(caller);
    const key = await deps.apiKeys.get(caller.projectId, caller.environment, id);
    if (!key) throw new GatehouseError('not_found', { message: 'No such key in this project environment.' });
    assertMayManageKey(actor.power, key, verb);
    return actor;
  }

  r.get('/keys', {
    config,
    schema: { tags, summary: 'List the API keys of this project environment that the caller may manage', response: { 200: Type.Object({ keys: Type.Array(KeySummary) }) } },
  }, async (request) => {
    const caller = callerOf(request);
    // Keys the caller could not revoke are not its business: a narrow key learns nothing of
    // the keys worth stealing (their names, scopes, last use).
    const { power } = keyActor(caller);
    const keys = await deps.apiKeys.list(caller.projectId, caller.environment);
    return { keys: keys.filter((k) => mayManageKey(power, k)).map(toKeyJson) };
  });

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
    const caller = callerOf(request);
    const scopes = request.body.scopes ?? null;
    const { power, createdBy } = keyActor(caller);
    assertMayManageKey(power, { kind: request.body.kind, scopes }, 'create');
    const created = await deps.apiKeys.create({
      projectId: caller.projectId, environment: caller.environment, kind: request.body.kind,
      name: request.body.name, scopes, expiresAt: request.body.expires_at ?? null, createdBy,
    });
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'api_key.create', target: created.summary.id, details: { kind: request.body.kind, scopes } });
    return reply.code(201).send({ key: created.key, ...toKeyJson(created.summary) });
  });

  r.post('/keys/:id/revoke', {
    config,
    schema: { tags, summary: 'Revoke a key now (stops working within a second everywhere)', params: KeyIdParams, response: { 200: KeySummary } },
  }, async (request) => {
    const caller = callerOf(request);
    // Revoking is checked like creating: `admin:keys` alone must not switch off the main secret key.
    await assertMayManage(caller, request.params.id, 'revoke');
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
    // A successor takes over a deployed key (often the app's own publishable key). Made by an
    // admin user, it would either die with that user's role (an outage at the next demotion) or
    // outlive it in the user's hands; so rotating stays a secret-key act.
    const caller = requireSecretKey(request, 'Only a secret key can rotate keys.');
    const { createdBy } = await assertMayManage(caller, request.params.id, 'rotate');
    const rotated = await deps.apiKeys.rotate(caller.projectId, caller.environment, request.params.id, request.query.grace_seconds, createdBy);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'api_key.rotate', target: request.params.id, details: { successor: rotated.summary.id } });
    return reply.code(201).send({ key: rotated.key, ...toKeyJson(rotated.summary), previous: toKeyJson(rotated.previous) });
  });
}

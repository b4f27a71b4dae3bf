import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { toUserJson } from '../identity/index.js';
import { MAX_USERS_PER_PAGE } from '../operations/index.js';
import { actingOf, type AdminContext } from './context.js';

const UserIdParams = Type.Object({ id: Type.String({ pattern: '^usr_[a-z2-7]{20}$' }) }, { additionalProperties: false });
const SessionIdParams = Type.Object({ id: Type.String({ pattern: '^sess_[a-z2-7]{20}$' }) }, { additionalProperties: false });
const AdminUser = Type.Object({
  id: Type.String(), email: Type.String(), role: Type.String(), created_at: Type.String(), updated_at: Type.String(),
  last_sign_in_at: Type.Union([Type.String(), Type.Null()]), email_confirmed_at: Type.Union([Type.String(), Type.Null()]),
  app_metadata: Type.Record(Type.String(), Type.Unknown()), user_metadata: Type.Record(Type.String(), Type.Unknown()),
  external: Type.Union([Type.Object({ issuer_id: Type.String(), sub: Type.String() }), Type.Null()]),
});
const SessionJson = Type.Object({
  id: Type.String(), user_id: Type.String(), created_at: Type.String(), refreshed_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]), revoked_reason: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]), ip: Type.Union([Type.String(), Type.Null()]),
});

export function toAdminUser(row: Parameters<typeof toUserJson>[0]) {
  const json = toUserJson(row);
  return {
    id: json.id, email: json.email, role: json.role, created_at: json.created_at, updated_at: json.updated_at,
    last_sign_in_at: json.last_sign_in_at, email_confirmed_at: json.email_confirmed_at, app_metadata: json.app_metadata, user_metadata: json.user_metadata,
    external: row.issuer_id && row.external_sub ? { issuer_id: row.issuer_id, sub: row.external_sub } : null,
  };
}

/** End users of this project environment and their sessions (issue #3 §1, §4, §8). */
export async function userRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:users', routeClass: 'admin' } as const;
  const tags = ['admin: users'];
  const { users } = operations;

  r.get('/users', {
    config,
    schema: {
      tags, summary: 'List end users',
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_USERS_PER_PAGE })), offset: Type.Optional(Type.Integer({ minimum: 0 })), email: Type.Optional(Type.String({ maxLength: 320 })) }),
      response: { 200: Type.Object({ users: Type.Array(AdminUser) }) },
    },
  }, async (request) => ({ users: (await users.list(actingOf(request), request.query)).map(toAdminUser) }));

  r.post('/users', {
    config,
    schema: {
      tags, summary: 'Create a user with a password (no session)',
      body: Type.Object({
        email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 4096 }),
        role: Type.Optional(Type.Union([Type.Literal('authenticated'), Type.Literal('admin')])),
        data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }, { additionalProperties: false }),
      response: { 201: AdminUser },
    },
  }, async (request, reply) => reply.code(201).send(toAdminUser(await users.create(actingOf(request), request.body))));

  r.get('/users/:id', {
    config, schema: { tags, summary: 'One user', params: UserIdParams, response: { 200: AdminUser } },
  }, async (request) => toAdminUser(await users.get(actingOf(request), request.params.id)));

  r.patch('/users/:id', {
    config,
    schema: {
      tags, summary: 'Change a user\'s role (admin or authenticated)', params: UserIdParams,
      body: Type.Object({ role: Type.Union([Type.Literal('authenticated'), Type.Literal('admin')]) }, { additionalProperties: false }),
      response: { 200: AdminUser },
    },
  }, async (request) => toAdminUser(await users.setRole(actingOf(request), request.params.id, request.body.role)));

  r.delete('/users/:id', {
    config, schema: { tags, summary: 'Delete a user (their sessions and logged LLM prompts go with them)', params: UserIdParams },
  }, async (request, reply) => {
    await users.remove(actingOf(request), request.params.id);
    return reply.code(204).send();
  });

  r.post('/users/invites', {
    config,
    schema: {
      tags, summary: 'Allow an email to sign up while sign-up mode is invite',
      body: Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ email: Type.String() }) },
    },
  }, async (request, reply) => reply.code(201).send({ email: await users.invite(actingOf(request), request.body.email) }));

  r.get('/users/:id/sessions', {
    config, schema: { tags, summary: 'A user\'s sessions', params: UserIdParams, response: { 200: Type.Object({ sessions: Type.Array(SessionJson) }) } },
  }, async (request) => ({ sessions: await users.sessions(actingOf(request), request.params.id) }));

  r.post('/users/:id/sessions/revoke', {
    config, schema: { tags, summary: 'Revoke every session of a user', params: UserIdParams, response: { 200: Type.Object({ revoked: Type.Integer() }) } },
  }, async (request) => ({ revoked: await users.revokeSessions(actingOf(request), request.params.id) }));

  r.post('/sessions/:id/revoke', {
    config, schema: { tags, summary: 'Revoke one session', params: SessionIdParams, response: { 200: SessionJson } },
  }, async (request) => users.revokeSession(actingOf(request), request.params.id));
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import { normalizeEmail, toUserJson } from '../identity/index.js';
import type { AdminContext } from './context.js';
import { actorOf, callerOf, requireEveryScope, requireSecretKey } from './context.js';

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

function toAdminUser(row: Parameters<typeof toUserJson>[0]) {
  const json = toUserJson(row);
  return {
    id: json.id, email: json.email, role: json.role, created_at: json.created_at, updated_at: json.updated_at,
    last_sign_in_at: json.last_sign_in_at, email_confirmed_at: json.email_confirmed_at, app_metadata: json.app_metadata, user_metadata: json.user_metadata,
    external: row.issuer_id && row.external_sub ? { issuer_id: row.issuer_id, sub: row.external_sub } : null,
  };
}

/** End users of this project environment and their sessions (issue #3 §1, §4, §8). */
export async function userRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:users', routeClass: 'admin' } as const;
  const tags = ['admin: users'];
  const { identity } = deps;

  r.get('/users', {
    config,
    schema: {
      tags, summary: 'List end users',
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), offset: Type.Optional(Type.Integer({ minimum: 0 })), email: Type.Optional(Type.String({ maxLength: 320 })) }),
      response: { 200: Type.Object({ users: Type.Array(AdminUser) }) },
    },
  }, async (request) => {
    const caller = callerOf(request);
    const rows = await identity.users.list(caller.projectId, caller.environment, {
      limit: request.query.limit ?? 100, offset: request.query.offset ?? 0, email: request.query.email?.trim().toLowerCase(),
    });
    return { users: rows.map(toAdminUser) };
  });

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
  }, async (request, reply) => {
    const caller = request.body.role === 'admin' ? requireEveryScope(request, 'Only a secret key with every scope can create admin users.') : callerOf(request);
    const row = await identity.accounts.create({ projectId: caller.projectId, environment: caller.environment }, request.body);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'user.create', target: row.id, details: { role: row.role } });
    return reply.code(201).send(toAdminUser(row));
  });

  r.get('/users/:id', {
    config, schema: { tags, summary: 'One user', params: UserIdParams, response: { 200: AdminUser } },
  }, async (request) => {
    const caller = callerOf(request);
    const row = await identity.users.byId(caller.projectId, caller.environment, request.params.id);
    if (!row) throw new GatehouseError('not_found', { message: 'No such user in this project environment.' });
    return toAdminUser(row);
  });

  r.patch('/users/:id', {
    config,
    schema: {
      tags, summary: 'Change a user\'s role (admin or authenticated)', params: UserIdParams,
      body: Type.Object({ role: Type.Union([Type.Literal('authenticated'), Type.Literal('admin')]) }, { additionalProperties: false }),
      response: { 200: AdminUser },
    },
  }, async (request) => {
    // Granting admin is a secret-key act (issue #3 §8): an admin user cannot mint more admins. Nor can
    // a key scoped to admin:users: the new admin would hold every admin scope that key lacks.
    const caller = request.body.role === 'admin'
      ? requireEveryScope(request, 'Only a secret key with every scope can grant the admin role.')
      : requireSecretKey(request, 'Only a secret key can change user roles.');
    const row = await identity.users.byId(caller.projectId, caller.environment, request.params.id);
    if (!row) throw new GatehouseError('not_found', { message: 'No such user in this project environment.' });
    const updated = await identity.accounts.setRole({ projectId: caller.projectId, environment: caller.environment }, row.id, request.body.role);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'user.set_role', target: row.id, details: { role: request.body.role } });
    return toAdminUser(updated);
  });

  r.delete('/users/:id', {
    config, schema: { tags, summary: 'Delete a user (their sessions and logged LLM prompts go with them)', params: UserIdParams },
  }, async (request, reply) => {
    const caller = callerOf(request);
    if (!(await identity.users.remove(caller.projectId, caller.environment, request.params.id))) {
      throw new GatehouseError('not_found', { message: 'No such user in this project environment.' });
    }
    // Logged prompts and completions are the user's content: they go with the user. Usage rows
    // and resource records hold counts and ids only, and stay for accounting.
    const purged = await deps.llm.requestLog.purge(caller.projectId, caller.environment, request.params.id);
    await deps.audit.write({
      projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'user.delete', target: request.params.id,
      details: { llm_request_log_entries_deleted: purged },
    });
    return reply.code(204).send();
  });

  r.post('/users/invites', {
    config,
    schema: {
      tags, summary: 'Allow an email to sign up while sign-up mode is invite',
      body: Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ email: Type.String() }) },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const email = normalizeEmail(request.body.email);
    await identity.signup.invite(caller.projectId, caller.environment, email);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'user.invite', target: email });
    return reply.code(201).send({ email });
  });

  r.get('/users/:id/sessions', {
    config, schema: { tags, summary: 'A user\'s sessions', params: UserIdParams, response: { 200: Type.Object({ sessions: Type.Array(SessionJson) }) } },
  }, async (request) => {
    const caller = callerOf(request);
    return { sessions: await identity.sessions.list(caller.projectId, caller.environment, request.params.id) };
  });

  r.post('/users/:id/sessions/revoke', {
    config, schema: { tags, summary: 'Revoke every session of a user', params: UserIdParams, response: { 200: Type.Object({ revoked: Type.Integer() }) } },
  }, async (request) => {
    const caller = callerOf(request);
    const revoked = await identity.sessions.revokeAllOfUser(caller.projectId, caller.environment, request.params.id, 'revoked_by_admin');
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'user.sessions_revoke', target: request.params.id, details: { revoked } });
    return { revoked };
  });

  r.post('/sessions/:id/revoke', {
    config, schema: { tags, summary: 'Revoke one session', params: SessionIdParams, response: { 200: SessionJson } },
  }, async (request) => {
    const caller = callerOf(request);
    const session = await identity.sessions.get(caller.projectId, caller.environment, request.params.id);
    if (!session) throw new GatehouseError('not_found', { message: 'No such session in this project environment.' });
    await identity.sessions.revoke(caller.projectId, caller.environment, session.id, 'revoked_by_admin');
    deps.events.record('session_revoked', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { session_id: session.id, by: actorOf(request) } });
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'session.revoke', target: session.id });
    return (await identity.sessions.get(caller.projectId, caller.environment, session.id))!;
  });
}

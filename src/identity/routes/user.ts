import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors/index.js';
import { toUserJson } from '../accounts/index.js';
import { SIGNED_IN_ROUTE, scopeOf, userOf, type AuthRoutesOptions } from './context.js';
import { ClientExtras, EmailField, Metadata, PasswordField, SessionSummaryJson, UserJson } from './schemas.js';

const tags = ['auth'];

/** GET/PUT /user, POST /logout, and the caller's own sessions. */
export async function userRoutes(app: FastifyInstance, { identity }: AuthRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  async function currentUser(request: Parameters<typeof scopeOf>[0]) {
    const user = userOf(request);
    const row = await identity.users.byId(scopeOf(request).projectId, scopeOf(request).environment, user.id);
    if (!row) throw new GatehouseError('user_not_found');
    return row;
  }

  r.get('/user', {
    config: SIGNED_IN_ROUTE,
    schema: { tags, summary: 'The signed-in user', security: [{ apikey: [], bearer: [] }], response: { 200: UserJson } },
  }, async (request) => toUserJson(await currentUser(request)));

  r.put('/user', {
    config: SIGNED_IN_ROUTE,
    schema: {
      tags, summary: 'Change email, password or user metadata', security: [{ apikey: [], bearer: [] }],
      body: Type.Object({
        email: Type.Optional(EmailField), password: Type.Optional(PasswordField), data: Type.Optional(Metadata),
        nonce: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])), ...ClientExtras,
      }, { additionalProperties: false }),
      response: { 200: UserJson },
    },
  }, async (request) => {
    const user = userOf(request);
    const { email, password, data } = request.body;
    const updated = await identity.accounts.update(scopeOf(request), user.id, { email, password, data }, user.sessionId);
    return toUserJson(updated);
  });

  r.post('/logout', {
    config: SIGNED_IN_ROUTE,
    schema: {
      tags, summary: 'Sign out: this session (local), every session (global), or every other session (others)', security: [{ apikey: [], bearer: [] }],
      querystring: Type.Object({ scope: Type.Optional(Type.Union([Type.Literal('global'), Type.Literal('local'), Type.Literal('others')])) }),
    },
  }, async (request, reply) => {
    const user = userOf(request);
    const { projectId, environment } = scopeOf(request);
    const scope = request.query.scope ?? 'global';
    if (scope === 'local') {
      if (user.sessionId) await identity.sessions.revoke(projectId, environment, user.sessionId, 'logout');
    } else {
      await identity.sessions.revokeAllOfUser(projectId, environment, user.id, `logout_${scope}`, scope === 'others' ? user.sessionId ?? undefined : undefined);
    }
    return reply.code(204).send();
  });

  r.get('/sessions', {
    config: SIGNED_IN_ROUTE,
    schema: { tags, summary: 'The signed-in user\'s sessions', security: [{ apikey: [], bearer: [] }], response: { 200: Type.Object({ sessions: Type.Array(SessionSummaryJson) }) } },
  }, async (request) => {
    const user = userOf(request);
    const { projectId, environment } = scopeOf(request);
    return { sessions: await identity.sessions.list(projectId, environment, user.id) };
  });

  r.delete('/sessions/:id', {
    config: SIGNED_IN_ROUTE,
    schema: { tags, summary: 'Revoke one of the signed-in user\'s sessions', security: [{ apikey: [], bearer: [] }], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
  }, async (request, reply) => {
    const user = userOf(request);
    const { projectId, environment } = scopeOf(request);
    const session = await identity.sessions.get(projectId, environment, request.params.id);
    // Another user's session is "not found", never "forbidden" (docs/api.md §404).
    if (!session || session.user_id !== user.id) throw new GatehouseError('session_not_found');
    await identity.sessions.revoke(projectId, environment, session.id, 'revoked_by_user');
    return reply.code(204).send();
  });

}

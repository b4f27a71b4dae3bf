import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import type { AdminContext } from './context.js';
import { actorOf, callerOf, requireEveryScope } from './context.js';

const SignupMode = Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')]);

/** Sign-up mode, signing keys and the development mail outbox of this project environment. */
export async function authSettingsRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:auth', routeClass: 'admin' } as const;
  const tags = ['admin: auth'];
  const { identity } = deps;

  r.get('/auth/settings', {
    config, schema: { tags, summary: 'Auth settings', response: { 200: Type.Object({ signup_mode: SignupMode }) } },
  }, async (request) => {
    const caller = callerOf(request);
    return { signup_mode: await identity.signup.mode(caller.projectId, caller.environment) };
  });

  r.put('/auth/settings', {
    config,
    schema: { tags, summary: 'Set the sign-up mode: open, invite or closed', body: Type.Object({ signup_mode: SignupMode }, { additionalProperties: false }), response: { 200: Type.Object({ signup_mode: SignupMode }) } },
  }, async (request) => {
    const caller = callerOf(request);
    await identity.signup.setMode(caller.projectId, caller.environment, request.body.signup_mode);
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'auth.settings', details: { signup_mode: request.body.signup_mode } });
    return { signup_mode: request.body.signup_mode };
  });

  const KeyJson = Type.Object({ kid: Type.String(), alg: Type.String(), created_at: Type.String(), retired_at: Type.Union([Type.String(), Type.Null()]), status: Type.String() });

  r.get('/auth/signing-keys', {
    config, schema: { tags, summary: 'Signing keys (public metadata only)', response: { 200: Type.Object({ keys: Type.Array(KeyJson) }) } },
  }, async (request) => {
    const caller = callerOf(request);
    return { keys: await identity.signingKeys.list(caller.projectId, caller.environment) };
  });

  r.post('/auth/signing-keys/rotate', {
    config,
    schema: { tags, summary: 'A new key signs from now on; the old one verifies until its last token expires', response: { 201: Type.Object({ kid: Type.String(), previous: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const rotated = await identity.signingKeys.rotate(caller.projectId, caller.environment);
    deps.events.record('signing_key_rotated', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: rotated });
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'signing_key.rotate', target: rotated.kid, details: { previous: rotated.previous } });
    return reply.code(201).send(rotated);
  });

  r.get('/auth/outbox', {
    config,
    schema: {
      tags, summary: 'Mail sent by the outbox mailer (development only, kept minutes; holds one-time codes, so a secret key with every scope only)',
      querystring: Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
      response: { 200: Type.Object({ messages: Type.Array(Type.Object({ id: Type.String(), to: Type.String(), subject: Type.String(), body: Type.String(), kind: Type.String(), created_at: Type.String() })) }) },
    },
  }, async (request) => {
    // The outbox holds live recovery codes: an admin *user* reading it could take over other
    // accounts, and a key scoped to admin:auth could take over an admin's, gaining every admin scope.
    const caller = requireEveryScope(request, 'The outbox is readable with a secret key holding every scope only.');
    if (!identity.outbox) throw new GatehouseError('outbox_disabled');
    return { messages: await identity.outbox.list(caller.projectId, caller.environment, { to: request.query.to, limit: request.query.limit }) };
  });
}

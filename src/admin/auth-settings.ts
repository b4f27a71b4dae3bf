import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actingOf, type AdminContext } from './context.js';

const SignupMode = Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')]);

/** Sign-up mode, signing keys and the development mail outbox of this project environment. */
export async function authSettingsRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:auth', routeClass: 'admin' } as const;
  const tags = ['admin: auth'];
  const { auth } = operations;

  r.get('/auth/settings', {
    config, schema: { tags, summary: 'Auth settings', response: { 200: Type.Object({ signup_mode: SignupMode }) } },
  }, async (request) => ({ signup_mode: await auth.signupMode(actingOf(request)) }));

  r.put('/auth/settings', {
    config,
    schema: { tags, summary: 'Set the sign-up mode: open, invite or closed', body: Type.Object({ signup_mode: SignupMode }, { additionalProperties: false }), response: { 200: Type.Object({ signup_mode: SignupMode }) } },
  }, async (request) => ({ signup_mode: await auth.setSignupMode(actingOf(request), request.body.signup_mode) }));

  const KeyJson = Type.Object({ kid: Type.String(), alg: Type.String(), created_at: Type.String(), retired_at: Type.Union([Type.String(), Type.Null()]), status: Type.String() });

  r.get('/auth/signing-keys', {
    config, schema: { tags, summary: 'Signing keys (public metadata only)', response: { 200: Type.Object({ keys: Type.Array(KeyJson) }) } },
  }, async (request) => ({ keys: await auth.signingKeys(actingOf(request)) }));

  r.post('/auth/signing-keys/rotate', {
    config,
    schema: { tags, summary: 'A new key signs from now on; the old one verifies until its last token expires', response: { 201: Type.Object({ kid: Type.String(), previous: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (request, reply) => reply.code(201).send(await auth.rotateSigningKey(actingOf(request))));

  r.get('/auth/outbox', {
    config,
    schema: {
      tags, summary: 'Mail sent by the outbox mailer (development only, kept minutes; holds one-time codes, so a secret key with every scope only)',
      querystring: Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
      response: { 200: Type.Object({ messages: Type.Array(Type.Object({ id: Type.String(), to: Type.String(), subject: Type.String(), body: Type.String(), kind: Type.String(), created_at: Type.String() })) }) },
    },
  }, async (request) => ({ messages: await auth.outbox(actingOf(request), { to: request.query.to, limit: request.query.limit }) }));
}

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ACCOUNT_ROUTE, metaOf, scopeOf, type AuthRoutesOptions } from './context.js';
import { ClientExtras, EmailField, SessionJson, SingleConfirmationJson } from './schemas.js';

const tags = ['auth'];

/** POST /recover (mail a one-time code) and POST /verify (spend a recovery or email-change code). */
export async function recoveryRoutes(app: FastifyInstance, { identity }: AuthRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/recover', {
    config: ACCOUNT_ROUTE,
    schema: {
      tags, summary: 'Send a password recovery code (same answer whether or not the account exists)',
      body: Type.Object({ email: EmailField, ...ClientExtras }, { additionalProperties: false }),
      querystring: Type.Object({ redirect_to: Type.Optional(Type.String({ maxLength: 2048 })) }),
      response: { 200: Type.Object({}) },
    },
  }, async (request) => {
    await identity.recovery.recover(scopeOf(request), request.body.email, metaOf(request));
    return {};
  });

  r.post('/verify', {
    config: ACCOUNT_ROUTE,
    schema: {
      tags, summary: 'Spend a one-time code: type=recovery (a session) or type=email_change (confirms a pending email change)',
      body: Type.Object({
        type: Type.String({ maxLength: 40 }), token: Type.Optional(Type.String({ maxLength: 200 })), token_hash: Type.Optional(Type.String({ maxLength: 200 })),
        email: Type.Optional(Type.Union([EmailField, Type.Null()])), redirect_to: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])), ...ClientExtras,
      }, { additionalProperties: false }),
      response: { 200: Type.Union([SessionJson, SingleConfirmationJson]) },
    },
  }, async (request) => {
    const scope = scopeOf(request);
    const meta = metaOf(request);
    if (request.body.type !== 'email_change') return identity.sessionResponse(await identity.recovery.verify(scope, request.body, meta));
    const result = await identity.emailChange.verify(scope, request.body, meta);
    return 'sessionId' in result ? identity.sessionResponse(result) : result;
  });
}

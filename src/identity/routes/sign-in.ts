import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors/index.js';
import type { AuthKind } from '../../observability/index.js';
import { ACCOUNT_ROUTE, AUTH_ROUTE, metaOf, scopeOf, type AuthRoutesOptions } from './context.js';
import { ClientExtras, EmailField, Metadata, PasswordField, SessionJson } from './schemas.js';

const tags = ['auth'];

/** The credential a /token request presents, for its outcome metric; an unknown grant is no sign-in. */
function grantOutcome(request: FastifyRequest): AuthKind | undefined {
  const grant = (request.query as { grant_type?: unknown }).grant_type;
  return grant === 'password' ? 'sign_in' : grant === 'refresh_token' ? 'refresh' : undefined;
}

/** POST /signup and POST /token (password and refresh_token grants). */
export async function signInRoutes(app: FastifyInstance, { identity }: AuthRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/signup', {
    config: { ...ACCOUNT_ROUTE, authOutcome: 'sign_up' },
    schema: {
      tags, summary: 'Sign up with email and password (GoTrue)',
      body: Type.Object({ email: EmailField, password: PasswordField, data: Type.Optional(Metadata), ...ClientExtras }, { additionalProperties: false }),
      response: { 200: SessionJson },
    },
  }, async (request) => {
    const signedIn = await identity.accounts.signUp(scopeOf(request), request.body, metaOf(request));
    return identity.sessionResponse(signedIn);
  });

  r.post('/token', {
    config: { ...AUTH_ROUTE, authOutcome: grantOutcome },
    schema: {
      tags, summary: 'Sign in (grant_type=password) or refresh a session (grant_type=refresh_token)',
      querystring: Type.Object({ grant_type: Type.Optional(Type.String({ maxLength: 40 })) }),
      body: Type.Object({
        email: Type.Optional(EmailField), password: Type.Optional(PasswordField), refresh_token: Type.Optional(Type.String({ maxLength: 512 })), ...ClientExtras,
      }, { additionalProperties: false }),
      response: { 200: SessionJson },
    },
  }, async (request) => {
    const scope = scopeOf(request);
    const meta = metaOf(request);
    switch (request.query.grant_type) {
      case 'password': {
        return identity.sessionResponse(await identity.accounts.signInWithPassword(scope, { email: request.body.email, password: request.body.password }, meta));
      }
      case 'refresh_token': {
        const token = request.body.refresh_token;
        if (!token) throw new GatehouseError('refresh_token_not_found', { message: 'refresh_token is required.' });
        const refreshed = await identity.sessions.refresh(scope.projectId, scope.environment, token, meta);
        const user = await identity.users.byId(scope.projectId, scope.environment, refreshed.userId);
        if (!user) throw new GatehouseError('refresh_token_not_found');
        return identity.sessionResponse({ user, sessionId: refreshed.sessionId, refreshToken: refreshed.refreshToken, method: 'token_refresh' });
      }
      default:
        throw new GatehouseError('unsupported_grant_type', { details: { field: 'grant_type' } });
    }
  });

}

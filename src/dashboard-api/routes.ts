import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { fastifyCookie } from '@fastify/cookie';
import { GatehouseError } from '../errors/index.js';
import { OPERATOR_COOKIE, OPERATOR_COOKIE_SECURE, operatorCookieOf, type OperatorSessionOnRequest } from '../http/index.js';
import type { OperatorActionContext, Operations } from '../operations/index.js';
import { csrfTokenOf, type OperatorService, type OperatorSummary, type SignedInOperator } from '../operators/index.js';
import { ENVIRONMENTS, type ProjectService } from '../tenancy/index.js';

/**
 * `/_/api`: what the dashboard calls besides the admin API: the setup link, signing in and out,
 * the operator's own account and second factor, and managing operators. Sessions are cookies
 * (HttpOnly, SameSite=Strict, Secure under TLS); identify checks them, and the CSRF token and
 * origin of every change (http/operator-session.ts), before these handlers run.
 */
export interface DashboardApiContext {
  operators: OperatorService;
  operations: Pick<Operations, 'operators'>;
  projects: Pick<ProjectService, 'list'>;
  /** Mark the cookie Secure: the server speaks TLS, or its public URL is https (TLS ends at a proxy). */
  secureCookie: boolean;
  /** The cookie's lifetime: the session's absolute end. */
  sessionMaxSeconds: number;
}

const Email = Type.String({ minLength: 1, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Code = Type.String({ minLength: 1, maxLength: 16 });
const RoleChanges = Type.Array(Type.Object({
  projectId: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('viewer'), Type.Null()]),
}, { additionalProperties: false }), { maxItems: 1000 });
const Grants = Type.Array(Type.Object({
  projectId: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('viewer')]),
}, { additionalProperties: false }), { maxItems: 1000 });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/** The public routes (no session yet) count as sign-ins for the rate limiter. */
const PUBLIC_SIGN_IN = { auth: 'public', routeClass: 'auth' } as const;

export function toOperatorJson(o: OperatorSummary) {
  return { id: o.id, email: o.email, totpEnabled: o.totpEnabled, createdAt: o.createdAt, roles: o.roles };
}

export async function dashboardApiRoutes(app: FastifyInstance, ctx: DashboardApiContext): Promise<void> {
  const { operators, operations, projects } = ctx;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['dashboard'];

  /**
   * Secure when the server or its public URL speaks https, or this request came over https
   * (request.protocol follows X-Forwarded-Proto only from a trusted proxy); a Secure cookie takes
   * the __Host- name (Path=/, no Domain).
   */
  const secureFor = (request: FastifyRequest) => ctx.secureCookie || request.protocol === 'https';

  function setSessionCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string): void {
    const secure = secureFor(request);
    reply.header('set-cookie', fastifyCookie.serialize(secure ? OPERATOR_COOKIE_SECURE : OPERATOR_COOKIE, sessionId, {
      httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: ctx.sessionMaxSeconds,
    }));
  }

  /** Clears both names: a cookie set before the server moved to https goes too. */
  function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
    const secure = secureFor(request);
    const clear = (name: string, asSecure: boolean) => fastifyCookie.serialize(name, '', { httpOnly: true, sameSite: 'strict', secure: asSecure, path: '/', maxAge: 0 });
    reply.header('set-cookie', secure ? [clear(OPERATOR_COOKIE_SECURE, true), clear(OPERATOR_COOKIE, true)] : [clear(OPERATOR_COOKIE, false)]);
  }

  /** The /me answer: the operator, its CSRF token, and the projects it has a role in. */
  async function me(operator: { id: string; email: string; totpEnabled: boolean }, csrfToken: string) {
    const [grants, all] = await Promise.all([operators.grants(operator.id), projects.list()]);
    return {
      operator: { id: operator.id, email: operator.email, totpEnabled: operator.totpEnabled },
      csrfToken,
      projects: all.flatMap((p) => {
        const grant = grants.find((g) => g.projectId === p.id);
        return grant ? [{ id: p.id, name: p.name, role: grant.role, environments: [...ENVIRONMENTS] }] : [];
      }),
    };
  }

  /** A new session for this browser: the one its cookie carried before (if any) ends, not left live beside it. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, result: SignedInOperator) {
    const previous = operatorCookieOf(request);
    if (previous !== undefined && previous !== result.sessionId) await operators.signOut(previous);
    setSessionCookie(request, reply, result.sessionId);
    return me(result.operator, csrfTokenOf(result.sessionId));
  }

  const acting = (request: FastifyRequest): OperatorActionContext & { by: { operatorId: string } } => ({
    by: { operatorId: sessionOf(request).operator.id },
    ip: request.ip, requestId: request.id,
  });

  const meta = (request: FastifyRequest) => ({ ip: request.ip, requestId: request.id, userAgent: request.headers['user-agent'] ?? null });

  r.get('/setup', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Whether the first operator is still to be created (the setup link is live)', response: { 200: Type.Object({ needed: Type.Boolean() }) } },
  }, async () => ({ needed: await operators.setupNeeded() }));

  r.post('/setup', {
    config: PUBLIC_SIGN_IN,
    schema: {
      tags, summary: 'Create the first operator from the one-time setup link; it owns every project, and is signed in',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }), email: Email, password: Password }, { additionalProperties: false }),
    },
  }, async (request, reply) => signedIn(request, reply, await operators.completeSetup(request.body, meta(request))));

  r.post('/sign-in', {
    config: PUBLIC_SIGN_IN,
    schema: {
      tags, summary: 'Sign in: 401 invalid_credentials, 401 totp_required when a second factor is needed, 429 while backing off',
      body: Type.Object({ email: Email, password: Password, totp: Type.Optional(Code) }, { additionalProperties: false }),
    },
  }, async (request, reply) => signedIn(request, reply, await operators.signIn(request.body, meta(request))));

  r.post('/sign-out', { schema: { tags, summary: 'End this session' } }, async (request, reply) => {
    await operators.signOut(sessionOf(request).sessionId);
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  r.get('/me', { schema: { tags, summary: 'The signed-in operator, its CSRF token and its projects' } }, async (request) => {
    const session = sessionOf(request);
    return me(session.operator, session.csrfToken);
  });

  r.post('/password', {
    schema: {
      tags, summary: 'Change this operator\'s password: every session ends, this browser gets a new one (like /me, plus the cookie)',
      body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
    },
  }, async (request, reply) => signedIn(request, reply, await operations.operators.changePassword(acting(request), request.body.currentPassword, request.body.newPassword, meta(request))));

  r.post('/totp/enroll', {
    schema: {
      tags, summary: 'Start a second factor with the current password (401 invalid_credentials when wrong): the secret is shown now, and works once confirmed',
      body: Type.Object({ currentPassword: Password }, { additionalProperties: false }),
      response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }) },
    },
  }, async (request) => operations.operators.enrollTotp(acting(request), request.body.currentPassword, meta(request)));

  r.post('/totp/confirm', {
    schema: { tags, summary: 'Turn the second factor on with a current code; every other session of this operator ends', body: Type.Object({ code: Code }, { additionalProperties: false }) },
  }, async (request, reply) => {
    await operations.operators.confirmTotp(acting(request), request.body.code, sessionOf(request).sessionId);
    return reply.code(204).send();
  });

  r.post('/totp/disable', {
    schema: {
      tags, summary: 'Turn the second factor off with the current password and a current code',
      body: Type.Object({ currentPassword: Password, code: Code }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    await operations.operators.disableTotp(acting(request), request.body.code, request.body.currentPassword, meta(request));
    return reply.code(204).send();
  });

  r.get('/operators', { schema: { tags, summary: 'Operators of the projects this operator owns, with their roles there' } }, async (request) => ({
    operators: (await operations.operators.list(acting(request))).map(toOperatorJson),
  }));

  r.post('/operators', {
    schema: {
      tags, summary: 'Add an operator with roles in projects this operator owns',
      body: Type.Object({ email: Email, password: Password, roles: Grants }, { additionalProperties: false }),
    },
  }, async (request, reply) => reply.code(201).send(toOperatorJson(await operations.operators.add(acting(request), request.body))));

  r.put('/operators/:id', {
    schema: {
      tags, summary: 'Set or remove (role null) an operator\'s role in projects this operator owns',
      params: IdParams, body: Type.Object({ roles: RoleChanges }, { additionalProperties: false }),
    },
  }, async (request) => toOperatorJson(await operations.operators.setRoles(acting(request), request.params.id, request.body.roles)));

  r.delete('/operators/:id', { schema: { tags, summary: 'Remove an operator (every project it has a role in must be one this operator owns); its sessions end', params: IdParams } },
    async (request, reply) => {
      await operations.operators.remove(acting(request), request.params.id);
      return reply.code(204).send();
    });
}

/** Routes under /_/api (but the public ones) run only after identify found a live session. */
function sessionOf(request: FastifyRequest): OperatorSessionOnRequest {
  if (!request.operatorSession) throw new GatehouseError('not_signed_in');
  return request.operatorSession;
}

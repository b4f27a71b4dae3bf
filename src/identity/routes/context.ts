import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../../errors/index.js';
import type { Caller, CallerUser } from '../../access/index.js';
import { normalizeEmail, type Scope } from '../accounts/index.js';
import type { Identity } from '../identity.js';
import type { RequestMeta } from '../sessions/index.js';

export interface AuthRoutesOptions {
  identity: Identity;
}

/**
 * Every /auth/v1 route needs a key (publishable or secret): it names the project environment.
 * Routes that take a credential (password, refresh token, recovery code) are in the `auth`
 * rate-limit class, tight because guessing comes from there; the rest (user, logout, sessions,
 * JWKS) are ordinary signed-in traffic.
 */
export const AUTH_ROUTE = { auth: 'key', routeClass: 'auth' } as const;
export const SIGNED_IN_ROUTE = { auth: 'key', routeClass: 'default' } as const;

/** The longest email the schema lets through (EmailField). */
const EMAIL_FIELD_MAX = 320;

/**
 * The account a request body names, in the account store's own canonical form (so that case,
 * spaces or Unicode look-alikes of one address meet one counter), or undefined. It runs before
 * schema validation, so it takes any body.
 */
export function namedAccount(request: FastifyRequest): string | undefined {
  const body = request.body;
  const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
  if (typeof email !== 'string' || email === '' || email.length > EMAIL_FIELD_MAX) return undefined;
  try {
    return normalizeEmail(email);
  } catch {
    return undefined;
  }
}

/**
 * `auth` routes that send mail to, or create, the account they name (sign-up, recovery): also
 * limited per account, so that requests from many addresses cannot mail-bomb one inbox. Not
 * sign-in: a per-account request limit there would let anyone lock a victim out; sign-in's
 * per-account brake is the backoff, which spares the addresses the owner signs in from.
 */
export const ACCOUNT_ROUTE = { ...AUTH_ROUTE, rateLimitAccount: namedAccount } as const;

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new GatehouseError('missing_api_key');
  return request.caller;
}

export function scopeOf(request: FastifyRequest): Scope {
  const caller = callerOf(request);
  return { projectId: caller.projectId, environment: caller.environment };
}

export function metaOf(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null, requestId: request.id };
}

/** The signed-in user of this request, or GoTrue's 401 no_authorization. */
export function userOf(request: FastifyRequest): CallerUser {
  const user = callerOf(request).user;
  if (!user) throw new GatehouseError('no_authorization');
  return user;
}

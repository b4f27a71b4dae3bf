import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.js';
import { GatehouseError } from '../errors/index.js';
import type { Caller, CorsStage } from '../http/index.js';
import { holdsEveryScope } from '../identity/api-keys/index.js';

export interface AdminContext {
  deps: AppDeps;
  cors: CorsStage;
}

/** Admin routes are never public, so a caller is always there; fail closed if not. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new GatehouseError('missing_api_key');
  return request.caller;
}

export function actorOf(request: FastifyRequest): string {
  const caller = callerOf(request);
  return caller.user ? `user:${caller.user.id}` : `key:${caller.key.id}`;
}

/**
 * For acts an admin *user* may not do, though the route is open to admins: what would outlive
 * the user's role (an issuer it controls) or raise its own limits. Only a secret key may.
 */
export function requireSecretKey(request: FastifyRequest, message: string): Caller {
  const caller = callerOf(request);
  if (caller.key.kind !== 'secret') throw new GatehouseError('secret_key_required', { message });
  return caller;
}

/**
 * For acts that hand out, or take over, the power of a whole role, which no scope list bounds:
 * granting the admin role, reading live sign-in codes, changing the limits the caller itself
 * is under. A scoped key doing them would gain what its scopes withhold; so only a secret key
 * holding every scope (unscoped, or `*`) may.
 */
export function requireEveryScope(request: FastifyRequest, message: string): Caller {
  const caller = requireSecretKey(request, message);
  if (!holdsEveryScope(caller.key.scopes)) {
    throw new GatehouseError('insufficient_scope', { message, details: { required_scope: '*' } });
  }
  return caller;
}

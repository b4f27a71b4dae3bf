import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import type { Caller } from '../http/index.js';
import type { ActionContext, Operations, Principal } from '../operations/index.js';

/** The admin API is a front end over the operations layer: it takes nothing else. */
export interface AdminContext {
  operations: Operations;
}

/** Admin routes are never public, so a caller is always there; fail closed if not. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new GatehouseError('missing_api_key');
  return request.caller;
}

/**
 * The principal behind a request: a dashboard operator with its role in the project, a secret key (with the user whose token rode along, if any),
 * or an admin user with the publishable key it came with. A publishable key without a user never
 * reaches an admin route (auth: 'secret'); fail closed if it does.
 */
export function principalOf(caller: Caller): Principal {
  // First: an operator's caller stands in a secret key's place, and must never be taken for one.
  if (caller.operator) return { kind: 'operator_session', operatorId: caller.operator.id, role: caller.operator.role };
  if (caller.key.kind === 'secret') return { kind: 'secret_key', keyId: caller.key.id, scopes: caller.key.scopes, userId: caller.user?.id ?? null };
  if (!caller.user) throw new GatehouseError('secret_key_required');
  return { kind: 'admin_user', userId: caller.user.id, keyId: caller.key.id, scopes: caller.key.scopes };
}

/** Who acts, on which project environment, from which request: what every action is called with. */
export function actingOf(request: FastifyRequest): ActionContext {
  const caller = callerOf(request);
  return { principal: principalOf(caller), projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id };
}

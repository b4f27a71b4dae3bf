import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.js';
import { GatehouseError } from '../errors/index.js';
import type { Caller, CorsStage } from '../http/index.js';

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

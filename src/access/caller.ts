import type { Environment } from '../tenancy/environments.js';

// Who is calling, as every layer above sees it. Built once per request by the identify stage
// (key, then user token) and never changed after: a stage that learns more returns a new caller.

export type KeyKind = 'publishable' | 'secret';

/** A verified API key: what it names and what it may do, never the key itself. */
export interface CallerKey {
  id: string;
  kind: KeyKind;
  projectId: string;
  environment: Environment;
  /** null: unrestricted within the key's kind. */
  scopes: readonly string[] | null;
}

/** Authorization groups; `self` is decided per row (self.ts). */
export type CallerGroup = 'guest' | 'user' | 'admin';

export interface CallerUser {
  id: string;
  role: string;
  sessionId: string | null;
  /** Verified token claims, for rule expressions. */
  claims: Record<string, unknown>;
}

/** An operator's role in the project (operators/roles.ts; named here because access/ sits below it). */
export type CallerOperatorRole = 'owner' | 'admin' | 'viewer';

/** An operator signed into the dashboard, acting on one project environment with its role there. */
export interface CallerOperator {
  id: string;
  role: CallerOperatorRole;
}

export interface Caller {
  readonly projectId: string;
  readonly environment: Environment;
  readonly key: CallerKey;
  readonly group: CallerGroup;
  readonly user: CallerUser | null;
  /** Set when the dashboard's session cookie identified the caller (then `key` is the operator's stand-in, never a stored key). */
  readonly operator: CallerOperator | null;
}

/**
 * The caller of a verified key and, if one rode along, a verified user. A secret key stays
 * admin whatever user rides along; otherwise the user's role decides (a role read from the
 * database, so a demoted admin stops being admin at once).
 */
export function createCaller(key: CallerKey, user: CallerUser | null): Caller {
  const group: CallerGroup = key.kind === 'secret' ? 'admin' : user === null ? 'guest' : user.role === 'admin' ? 'admin' : 'user';
  return { projectId: key.projectId, environment: key.environment, key, group, user, operator: null };
}

/**
 * The caller of an operator session on the admin API. It stands where a secret key would (the
 * admin group, every scope), under the id `operator:<id>` that no stored key can have; what a
 * viewer may not do is refused by the authorization stage and the operations layer, from `operator`.
 */
export function createOperatorCaller(projectId: string, environment: Environment, operator: CallerOperator): Caller {
  const key: CallerKey = { id: `operator:${operator.id}`, kind: 'secret', projectId, environment, scopes: null };
  return { projectId, environment, key, group: 'admin', user: null, operator };
}

/** Who acted, for audit entries and ownership: the operator or the user when there is one, else the key. */
export function actorId(caller: Caller): string {
  if (caller.operator) return `operator:${caller.operator.id}`;
  return caller.user ? `user:${caller.user.id}` : `key:${caller.key.id}`;
}

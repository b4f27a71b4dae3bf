import type { Caller } from './caller.js';
import { hasScope } from './scopes.js';

/**
 * How a route is guarded. `public`: no key needed (health, docs). `key`: any valid key.
 * `secret`: the admin group — a secret key, or an admin user (or an operator's session cookie).
 * `operator`: a signed-in dashboard operator's session cookie, and nothing else (/_/api).
 */
export type RouteAuth = 'public' | 'key' | 'secret' | 'operator';

/**
 * Whether a signed-in user must be behind the request. `unless-secret`: a user token, or a secret
 * key (the app's own server acting for itself); a publishable key alone ships in every copy of the
 * app, so it names no one.
 */
export type UserRequirement = 'none' | 'unless-secret';

/**
 * How a key must hold a route's scope. `granted`: its scopes cover it (an unscoped key holds every
 * scope of its kind). `secret`: the same, from a secret key only (/metrics: a publishable key ships
 * in every copy of the app, so even an unscoped one must not read the operator's counters).
 */
export type ScopeGrant = 'granted' | 'secret';

export type AccessDenial = 'secret_key_required' | 'user_token_required';

/** The first rule of `auth` and `user` the caller breaks, or null. Scopes are checked apart (holdsScope): they may need the route's parameters. */
export function accessDenial(caller: Caller, auth: RouteAuth, user: UserRequirement): AccessDenial | null {
  if (auth === 'secret' && caller.group !== 'admin') return 'secret_key_required';
  if (user === 'unless-secret' && caller.user === null && caller.key.kind !== 'secret') return 'user_token_required';
  return null;
}

export function holdsScope(caller: Caller, scope: string, grant: ScopeGrant): boolean {
  if (grant === 'secret' && caller.key.kind !== 'secret') return false;
  return hasScope(caller.key.scopes, scope);
}

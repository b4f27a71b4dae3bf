import type { Caller, CallerGroup } from '../../access/index.js';

/** What a rule may know about the caller: the `auth.*` of the rule language. */
export interface AuthContext {
  group: CallerGroup;
  uid: string | null;
  role: string | null;
  claims: Readonly<Record<string, unknown>>;
}

export function authContextOf(caller: Caller): AuthContext {
  return {
    group: caller.group,
    uid: caller.user?.id ?? null,
    role: caller.user?.role ?? null,
    claims: caller.user?.claims ?? {},
  };
}

/** `user` is any caller with a signed-in user (an admin user included); `guest` has none. */
export function inGroup(auth: AuthContext, group: 'admin' | 'user' | 'guest'): boolean {
  if (group === 'admin') return auth.group === 'admin';
  if (group === 'user') return auth.uid !== null;
  return auth.group === 'guest' && auth.uid === null;
}

import { actorId, type Caller } from '../access/index.js';
import { authContextOf, type AuthContext } from '../data/index.js';

/** Who acts on storage: the caller's environment, what rules see of it, and the owner it stamps. */
export interface Actor {
  projectId: string;
  environment: string;
  auth: AuthContext;
  /** The signed-in user, owner of what it creates; null for a secret key alone. */
  userId: string | null;
  /** For the audit log: `user:<id>` or `key:<id>`. */
  actor: string;
}

export function actorOf(caller: Caller): Actor {
  return { projectId: caller.projectId, environment: caller.environment, auth: authContextOf(caller), userId: caller.user?.id ?? null, actor: actorId(caller) };
}

/** The user a signed upload URL was made for: rules see a signed-in user of that id. */
export function signedUploader(projectId: string, environment: string, owner: string | null): Actor {
  return owner === null
    ? { projectId, environment, auth: { group: 'admin', uid: null, role: null, claims: {} }, userId: null, actor: 'signed-url' }
    : { projectId, environment, auth: { group: 'user', uid: owner, role: 'authenticated', claims: {} }, userId: owner, actor: `user:${owner}` };
}

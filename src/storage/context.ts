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

/**
 * Who a signed upload URL uploads as: the user it was made for (rules see their id, and the admin
 * group if they were an admin; no other claims travel in the URL), or an admin for a secret key's.
 * Signing is decided as this same uploader, so a URL never promises what its upload would refuse.
 */
export function signedUploader(projectId: string, environment: string, owner: string | null, admin: boolean): Actor {
  return owner === null
    ? { projectId, environment, auth: { group: 'admin', uid: null, role: null, claims: {} }, userId: null, actor: 'signed-url' }
    : { projectId, environment, auth: { group: admin ? 'admin' : 'user', uid: owner, role: 'authenticated', claims: {} }, userId: owner, actor: `user:${owner}` };
}

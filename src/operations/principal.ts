import { GatehouseError } from '../errors/index.js';
import { holdsEveryScope, OPERATOR_POWER, type KeyPower } from '../identity/api-keys/index.js';

/**
 * Who acts. Every front end (admin API, CLI, later the dashboard and a remote CLI) names one,
 * and the actions alone decide what it may do, so the rules cannot drift between front ends.
 *
 * - `secret_key`: a secret key with its scopes (null: unrestricted). A user token riding along
 *   adds no power, but the audit trail names that user, as it always has.
 * - `admin_user`: a user holding the admin role, who came with a publishable key: it may do
 *   what that key's scopes allow, and never what would outlive its role.
 * - `operator`: the CLI, running with the database's own credentials: nothing is above it.
 * - `operator_session`: a person signed into the dashboard, with its role in the project: an
 *   owner or admin holds every power of the project (as the CLI does there); a viewer reads only.
 */
export type Principal =
  | { readonly kind: 'secret_key'; readonly keyId: string; readonly scopes: readonly string[] | null; readonly userId: string | null }
  | { readonly kind: 'admin_user'; readonly userId: string; readonly keyId: string; readonly scopes: readonly string[] | null }
  | { readonly kind: 'operator' }
  | { readonly kind: 'operator_session'; readonly operatorId: string; readonly role: 'owner' | 'admin' | 'viewer' };

export const OPERATOR: Principal = Object.freeze({ kind: 'operator' });

/** Publishable only, no scope: within it no key can be seen or made. */
const VIEWER_POWER: KeyPower = Object.freeze({ kind: 'publishable', scopes: Object.freeze([]) as readonly string[] });

/** A dashboard viewer changes nothing: every act that is not a read calls this first (operations/index.ts). */
export function requireChangePower(principal: Principal | undefined): void {
  if (principal?.kind === 'operator_session' && principal.role === 'viewer') {
    throw new GatehouseError('forbidden', { message: 'A viewer can read this project but change nothing.', details: { role: 'viewer' } });
  }
}

/** The audit log's actor: `key:<id>`, `user:<id>`, `operator:<id>` or `cli`. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'operator': return 'cli';
    case 'operator_session': return `operator:${principal.operatorId}`;
    case 'admin_user': return `user:${principal.userId}`;
    case 'secret_key': return principal.userId ? `user:${principal.userId}` : `key:${principal.keyId}`;
  }
}

/**
 * Who a key made now is recorded as made by. A key made by an admin user is the user's: it stops
 * working when the user stops being admin; one made by a dashboard operator stops when the
 * operator no longer holds owner or admin in the project (api-keys' creatorLostPower).
 */
export function creatorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'operator': return 'cli';
    case 'operator_session': return `operator:${principal.operatorId}`;
    case 'admin_user': return `user:${principal.userId}`;
    case 'secret_key': return `key:${principal.keyId}`;
  }
}

/** The principal's power over keys: an admin user touches publishable keys only, within its key's scopes. */
export function keyPowerOf(principal: Principal): KeyPower {
  switch (principal.kind) {
    case 'operator': return OPERATOR_POWER;
    // A viewer's power touches no key at all (it is refused before, by requireChangePower).
    case 'operator_session': return principal.role === 'viewer' ? VIEWER_POWER : OPERATOR_POWER;
    case 'admin_user': return { kind: 'publishable', scopes: principal.scopes };
    case 'secret_key': return { kind: 'secret', scopes: principal.scopes };
  }
}

/** Whether the principal holds every scope: the operator, or a secret key unscoped or with `*`. */
export function holdsEveryPower(principal: Principal): boolean {
  return principal.kind === 'operator' || (principal.kind === 'operator_session' && principal.role !== 'viewer') || (principal.kind === 'secret_key' && holdsEveryScope(principal.scopes));
}

/**
 * For acts an admin *user* may not do, though admins may reach them: what would outlive the
 * user's role (an issuer it controls, a successor key) or raise its own limits.
 */
export function requireSecretKey(principal: Principal, message: string): void {
  requireChangePower(principal);
  if (principal.kind === 'admin_user') throw new GatehouseError('secret_key_required', { message });
}

/**
 * For acts that hand out, or take over, the power of a whole role, which no scope list bounds:
 * granting the admin role, reading live sign-in codes, changing the limits the caller itself
 * is under. A scoped key doing them would gain what its scopes withhold; so only a secret key
 * holding every scope (unscoped, or `*`), or the operator, may.
 */
export function requireEveryScope(principal: Principal, message: string): void {
  requireSecretKey(principal, message);
  if (!holdsEveryPower(principal)) {
    throw new GatehouseError('insufficient_scope', { message, details: { required_scope: '*' } });
  }
}

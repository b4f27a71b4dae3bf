import { GatehouseError } from '../../errors/index.js';
import type { KeyKind } from './format.js';
import { hasScope, holdsEveryScope } from '../../access/index.js';

/**
 * What a caller may do with keys is bounded by its own power: otherwise a
 * credential could mint, rotate or revoke one that outranks it (issue 11).
 * `kind` is the most powerful kind the caller may touch: an admin user comes
 * with a publishable key and may only touch publishable keys; `scopes` are
 * the caller's own key's scopes (null: unrestricted).
 */
export interface KeyPower {
  kind: KeyKind;
  scopes: readonly string[] | null;
}

/** The CLI runs with the database's own credentials: nothing is above it. */
export const OPERATOR_POWER: KeyPower = Object.freeze({ kind: 'secret', scopes: null });

/** Every scope of `scopes` is one the caller holds itself (null asks for everything). */
function withinScopes(own: readonly string[] | null, scopes: readonly string[] | null): boolean {
  if (own === null) return true;
  return scopes !== null && scopes.every((s) => hasScope(own, s));
}

/** Whether `power` may see, create, rotate or revoke a key of this kind and scopes. */
export function mayManageKey(power: KeyPower, key: { kind: KeyKind; scopes: readonly string[] | null }): boolean {
  return (power.kind === 'secret' || key.kind === 'publishable') && withinScopes(power.scopes, key.scopes);
}

/** Throws the refusal a caller gets for a key beyond its power: the kind first, then the scopes. */
export function assertMayManageKey(power: KeyPower, key: { kind: KeyKind; scopes: readonly string[] | null }, verb: string): void {
  if (power.kind !== 'secret' && key.kind === 'secret') {
    throw new GatehouseError('secret_key_required', { message: `Only a secret key can ${verb} secret keys.` });
  }
  if (!withinScopes(power.scopes, key.scopes)) {
    throw new GatehouseError('insufficient_scope', {
      message: `A scoped key can only ${verb} keys whose scopes it holds itself.`,
      details: { caller_scopes: power.scopes },
    });
  }
}

export { holdsEveryScope };

// What an operator may do in a project. Checked by the server (identify/authorize stages and the
// operations layer), never only hidden in the UI.

export const OPERATOR_ROLES = ['owner', 'admin', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

/** A viewer reads; an admin does every admin act of the project; an owner also manages its operators. */
export function mayChange(role: OperatorRole): boolean {
  return role !== 'viewer';
}

export function mayManageOperators(role: OperatorRole): boolean {
  return role === 'owner';
}

// An operator's role in a project. What each may do is decided by the server (the authorize stage
// and the operations layer: docs/dashboard.md), never only hidden in the UI.

export const OPERATOR_ROLES = ['owner', 'admin', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

import { invalid } from '../errors/index.js';

// An operator's role in a project. What each may do is decided by the server (the authorize stage
// and the operations layer: docs/dashboard.md), never only hidden in the UI.

export const OPERATOR_ROLES = ['owner', 'admin', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

export interface RoleChange {
  projectId: string;
  /** null takes the role away (only where `removals` allows it). */
  role: OperatorRole | null;
}

/**
 * A list of {projectId, role} from a request or the CLI: each project named once, each role one of
 * the three (or null, to take the role away, when `removals`). One check for adding an operator
 * and for changing its roles.
 */
export function parseRoleChanges(changes: unknown, options: { removals: true }): RoleChange[];
export function parseRoleChanges(changes: unknown, options: { removals: false }): Array<{ projectId: string; role: OperatorRole }>;
export function parseRoleChanges(changes: unknown, { removals }: { removals: boolean }): RoleChange[] {
  if (!Array.isArray(changes)) throw invalid('roles', 'must be a list of {projectId, role}');
  const seen = new Set<string>();
  return changes.map((c: { projectId?: unknown; role?: unknown } | null, i) => {
    if (typeof c?.projectId !== 'string' || c.projectId === '') throw invalid(`roles[${i}].projectId`, 'is required');
    if (seen.has(c.projectId)) throw invalid(`roles[${i}].projectId`, 'is named twice');
    if (!(isOperatorRole(c.role) || (removals && c.role === null))) {
      throw invalid(`roles[${i}].role`, removals ? 'must be owner, admin, viewer or null' : 'must be owner, admin or viewer');
    }
    seen.add(c.projectId);
    return { projectId: c.projectId, role: c.role as OperatorRole | null };
  });
}

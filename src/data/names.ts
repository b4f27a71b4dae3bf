import { createHash } from 'node:crypto';

// Identifiers reach SQL only from a validated schema and only through Kysely,
// which quotes them; the pattern is a second wall, so that no name a client
// types can ever be odd enough to matter (quotes, dots, unicode look-alikes).
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;

export function isIdentifier(value: string): boolean {
  return IDENTIFIER.test(value);
}

/**
 * Physical table of a user table: a hash of project, environment and name, so
 * it is short (PostgreSQL's 63-byte limit), never collides with Gatehouse's
 * own tables (`d_` prefix, which no core table uses) and carries no client text.
 */
export function physicalTableName(projectId: string, environment: string, table: string): string {
  const digest = createHash('sha256').update(`${projectId}\u0000${environment}\u0000${table}`).digest('hex');
  return `d_${digest.slice(0, 24)}`;
}

/** The key scope a table's reads or writes need (`data:<table>:read`): the Data API and realtime's changes ask the same. */
export function tableScope(table: string, access: 'read' | 'write'): string {
  return `data:${table}:${access}`;
}

import type { RowChange } from '../../data/index.js';
import type { Environment } from '../../tenancy/environments.js';

// What goes over the bus for one committed write: every changed row whole (the bus is internal;
// each instance masks per subscriber), and the table's commit sequence number.

/** The `table` of storage object changes: table names have no dot, so no user table is called this. */
export const STORAGE_OBJECTS = 'storage.objects';

export interface ChangeMessage {
  /** Logical table name, or STORAGE_OBJECTS. */
  table: string;
  /** Per table, in commit order, without gaps (realtime_sequences). */
  seq: number;
  commitTimestamp: string;
  changes: RowChange[];
}

export function changesTopic(projectId: string, environment: Environment): string {
  return `changes:${projectId}:${environment}`;
}

/** A message from the bus, checked before use: other versions of Gatehouse may share it. */
export function asChangeMessage(value: unknown): ChangeMessage | null {
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Partial<ChangeMessage>;
  if (typeof m.table !== 'string' || typeof m.seq !== 'number' || !Number.isSafeInteger(m.seq)) return null;
  if (typeof m.commitTimestamp !== 'string' || !Array.isArray(m.changes)) return null;
  const ok = m.changes.every((c) => typeof c === 'object' && c !== null && (c.type === 'INSERT' || c.type === 'UPDATE' || c.type === 'DELETE'));
  return ok ? (m as ChangeMessage) : null;
}

import type { Kysely } from 'kysely';
import type { Environment } from '../../tenancy/environments.js';
import type { TableModel } from '../schema/model.js';
import { decodeValue } from '../schema/values.js';

// What the write path tells whoever listens for row changes (realtime, issue 16). The data layer
// only defines the hook; deps.ts plugs in the realtime publisher, so data/ imports no feature.

export type RowChangeType = 'INSERT' | 'UPDATE' | 'DELETE';

/** Whole rows, every column, as the Data API would answer them (JSON values): listeners mask them per subscriber. */
export interface RowChange {
  type: RowChangeType;
  /** The row after (INSERT, UPDATE); null for DELETE. */
  record: Record<string, unknown> | null;
  /** The row before (UPDATE, DELETE); null for INSERT, and for an UPDATE of a row the write did not read first (see write.ts). */
  old: Record<string, unknown> | null;
}

export interface TableChanges {
  projectId: string;
  environment: Environment;
  table: TableModel;
  changes: RowChange[];
}

export interface RowChangeSink {
  /**
   * Runs inside the write's transaction, as its last statement (it may write, e.g. to order
   * changes by commit); returns what to run once the transaction has committed. Never called for
   * a write that rolls back, and what it returns is never run then.
   */
  capture(trx: Kysely<any>, changes: TableChanges): Promise<() => void>;
}

/** A stored row (either engine's driver values) as the JSON a client reads. */
export function decodeRow(table: TableModel, stored: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of table.columns.values()) out[column.name] = decodeValue(column, stored[column.name]);
  return out;
}

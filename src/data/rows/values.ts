import { GatehouseError } from '../../errors/index.js';
import { columnForbidden, writeAccess, type ColumnAccess } from '../columns/permissions.js';
import type { AuthContext } from '../rules/context.js';
import type { ColumnModel, TableModel } from '../schema/model.js';
import { encodeValue, ValueError, type Stored } from '../schema/values.js';

/** Under PostgreSQL's B-tree entry limit (about 2,700 bytes), with room for the index's own overhead. */
export const UNIQUE_TEXT_MAX_BYTES = 2000;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The columns a write names, checked before anything runs: unknown → 400,
 * server-set or not writable → 403 naming the column. Returns whether any
 * named column is writable only on the caller's own rows.
 */
export function checkWritableColumns(table: TableModel, auth: AuthContext, names: Iterable<string>): { selfOnly: boolean } {
  let selfOnly = false;
  for (const name of names) {
    const column = table.columns.get(name);
    if (!column) {
      throw new GatehouseError('data_write_column_unknown', {
        message: `Could not find the '${name.slice(0, 60)}' column of '${table.name}' in the schema cache`,
        details: { column: name.slice(0, 60), table: table.name },
      });
    }
    const how: ColumnAccess = writeAccess(column, auth);
    if (how === 'none') throw columnForbidden(table, name, 'write');
    if (how === 'self') selfOnly = true;
  }
  return { selfOnly };
}

export function encodeWrite(table: TableModel, column: ColumnModel, value: unknown): Stored {
  let stored: Stored;
  try {
    stored = encodeValue(column, value);
  } catch (error) {
    if (error instanceof ValueError) throw new GatehouseError('data_value_invalid', { message: error.message, details: { column: column.name } });
    throw error;
  }
  if (stored === null && column.required) {
    throw new GatehouseError('data_value_required', {
      message: `null value in column ${column.name} of table ${table.name} violates its required rule`,
      details: { column: column.name },
    });
  }
  if (typeof stored === 'string' && column.maxLength !== null && column.type === 'text' && [...stored].length > column.maxLength) {
    throw new GatehouseError('data_value_too_long', { message: `value too long for column ${column.name} (at most ${column.maxLength} characters)`, details: { column: column.name } });
  }
  // A unique column is a B-tree index entry: PostgreSQL refuses entries over ~2.7 kB, SQLite does not.
  // The same bound on both engines keeps one answer (400) for one value.
  if (typeof stored === 'string' && column.unique && Buffer.byteLength(stored, 'utf8') > UNIQUE_TEXT_MAX_BYTES) {
    throw new GatehouseError('data_value_too_long', {
      message: `value too long for unique column ${column.name} (at most ${UNIQUE_TEXT_MAX_BYTES} bytes of UTF-8)`, details: { column: column.name },
    });
  }
  return stored;
}

/** An insert body: one object or an array of them. */
export function bodyRows(body: unknown, maxRows: number): Array<Record<string, unknown>> {
  const rows = Array.isArray(body) ? body : [body];
  if (rows.length > maxRows) throw new GatehouseError('data_query_invalid', { message: `at most ${maxRows} rows per insert` });
  if (!rows.every(isPlainObject)) throw new GatehouseError('data_query_invalid', { message: 'the body must be a JSON object or an array of objects' });
  return rows;
}

export function bodyObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body) || Object.keys(body).length === 0) {
    throw new GatehouseError('data_query_invalid', { message: 'the body must be a JSON object naming at least one column' });
  }
  return body;
}

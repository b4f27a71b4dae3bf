import { GatehouseError } from '../../errors/index.js';

// Constraint failures the database reports, as PostgREST-shaped 409s. Both
// drivers' codes are listed side by side: pg's SQLSTATE, better-sqlite3's
// extended result codes. The database's own message is not passed on: it can
// quote values and physical names.

export function mapConstraintError(error: unknown, table: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new GatehouseError('data_unique_violation', { message: `duplicate key value violates a unique column of table ${table}`, cause: error });
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new GatehouseError('data_reference_violation', {
      message: `the change on table ${table} violates a reference: the referenced row is missing, or another row still references this one`,
      cause: error,
    });
  }
  return error;
}

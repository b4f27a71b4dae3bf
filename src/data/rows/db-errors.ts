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
  // A value the database itself cannot take (PostgreSQL: 54000 an index entry over ~2.7 kB,
  // class 22 data exceptions; SQLite: SQLITE_TOOBIG) is the client's value, not a 500.
  if (code === '54000' || (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) || code === 'SQLITE_TOOBIG') {
    return new GatehouseError('data_value_invalid', { message: `a value written to table ${table} is too large or invalid for the database`, cause: error });
  }
  return error;
}

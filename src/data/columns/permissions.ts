import type { AliasableExpression, ExpressionBuilder } from 'kysely';
import { ownRows, OWNER_COLUMN } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import { inGroup, type AuthContext } from '../rules/context.js';
import type { ColumnResolver } from '../rules/resolver.js';
import type { ColumnModel, TableModel } from '../schema/model.js';
import type { RuleGroup } from '../schema/types.js';

// Column-level security. `all`: on every row the caller may touch; `self`: only
// on the caller's own rows (created_by); `none`: never. A column read as
// `self` is masked to NULL on other rows *in SQL*, so filters and order on it
// see NULL too: no oracle for its values on rows the caller does not own.

export type ColumnAccess = 'all' | 'self' | 'none';

function access(groups: ReadonlySet<RuleGroup> | null, auth: AuthContext): ColumnAccess {
  if (groups === null) return 'all';
  for (const g of groups) if (g !== 'self' && inGroup(auth, g)) return 'all';
  return groups.has('self') && auth.uid !== null ? 'self' : 'none';
}

/**
 * All that column access (above) depends on of the caller: its group, and whether a user signed in.
 * Two callers of one class have the same access to every column (read plans cache by it).
 */
export function accessClass(auth: AuthContext): string {
  return auth.uid === null ? auth.group : `${auth.group}+user`;
}

export const readAccess = (column: ColumnModel, auth: AuthContext): ColumnAccess => (column.system ? 'all' : access(column.read, auth));
export const writeAccess = (column: ColumnModel, auth: AuthContext): ColumnAccess => (column.system ? 'none' : access(column.write, auth));

/** Column names the caller can read, in table order (what `select=*` means for it). */
export function readableColumns(table: TableModel, auth: AuthContext): string[] {
  return [...table.columns.values()].filter((c) => readAccess(c, auth) !== 'none').map((c) => c.name);
}

export function columnForbidden(table: TableModel, column: string, verb: 'read' | 'write'): GatehouseError {
  return new GatehouseError('data_column_forbidden', {
    message: column === 'id' || column === 'created_by' || column === 'created_at' || column === 'updated_at'
      ? `permission denied for column ${column} of table ${table.name}: it is set by the server`
      : `permission denied to ${verb} column ${column} of table ${table.name}`,
    details: { column, table: table.name },
  });
}

export function unknownColumn(table: TableModel, column: string): GatehouseError {
  return new GatehouseError('data_column_unknown', { message: `column ${table.name}.${column} does not exist`, details: { column, table: table.name } });
}

/** A client-named column the caller may read (any access), or the 400/403 to answer. */
export function readableColumn(resolver: ColumnResolver, auth: AuthContext, name: string): ColumnModel {
  const column = resolver.model(name);
  if (!column) throw unknownColumn(resolver.table, name);
  if (readAccess(column, auth) === 'none') throw columnForbidden(resolver.table, name, 'read');
  return column;
}

/**
 * A readable column's SQL: the column, or under `self` access the column on the caller's own rows
 * and NULL elsewhere. `uid` is the caller's id or what stands for it in a cached plan (rows/read-plan.ts).
 */
export function maskedRef(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, name: string, how: ColumnAccess, uid: unknown): AliasableExpression<unknown> {
  const ref = resolver.ref(eb, name);
  if (how === 'all') return ref;
  return eb.case().when(ownRows(eb, resolver.ref(eb, OWNER_COLUMN), uid as string)).then(ref).else(null).end();
}

/** A client-named column as the caller may see it: masked, or refused. */
export function readableRef(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, name: string): { column: ColumnModel; ref: AliasableExpression<unknown> } {
  const column = readableColumn(resolver, auth, name);
  return { column, ref: maskedRef(eb, resolver, name, readAccess(column, auth), auth.uid) };
}

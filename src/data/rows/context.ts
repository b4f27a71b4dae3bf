import { expressionBuilder, type AliasableExpression, type ExpressionBuilder, type Kysely } from 'kysely';
import type { EngineCapabilities } from '../../db/index.js';
import type { Clock } from '../../shared/clock.js';
import { readableColumn, readableColumns, readableRef } from '../columns/permissions.js';
import type { ParsedQuery, QueryLimits } from '../query/ast.js';
import type { AuthContext } from '../rules/context.js';
import type { ColumnResolver } from '../rules/resolver.js';
import type { ColumnModel, TableModel } from '../schema/model.js';
import { decodeValue } from '../schema/values.js';
import type { ReadPlans } from './read-plan.js';
import type { Environment } from '../../tenancy/environments.js';
import type { RowChangeSink } from './changes.js';

/** What row operations run on; the user tables are not in Kysely's Database type. */
export interface RowContext {
  db: Kysely<any>;
  capabilities: EngineCapabilities;
  limits: QueryLimits;
  clock: Clock;
  /** The other tables of the environment, for references. */
  tables: ReadonlyMap<string, TableModel>;
  /** Read plans by shape (read-plan.ts), one set per service. */
  plans: ReadPlans;
  /** Runs a planned read's SQL with its values bound: the rows as arrays, in select order (Storage.selectArrays). */
  select(sql: string, parameters: readonly unknown[]): Promise<unknown[][]>;
  /** The same at once when the engine can (Storage.selectArraysNow), else null: then `select`. */
  selectNow(sql: string, parameters: readonly unknown[]): unknown[][] | null;
  /** Whose tables these are, for the change listener. */
  projectId: string;
  environment: Environment;
  /** Told of every committed write (realtime); null: nobody listens, and writes read nothing extra. */
  changes: RowChangeSink | null;
}

/** A standalone builder: predicates are built once per request, then used in several queries. */
export const builder = (): ExpressionBuilder<any, any> => expressionBuilder<any, any>();

/** Output name → column, for select=… (`*` is the caller's readable columns only). */
export type Projection = Array<{ alias: string; name: string; column: ColumnModel }>;

export function projection(resolver: ColumnResolver, auth: AuthContext, select: ParsedQuery['select']): Projection {
  const items: Projection = [];
  for (const item of select) {
    if (item.kind === 'star') {
      for (const name of readableColumns(resolver.table, auth)) items.push({ alias: name, name, column: resolver.table.columns.get(name)! });
    } else {
      items.push({ alias: item.alias, name: item.column, column: readableColumn(resolver, auth, item.column) });
    }
  }
  return items;
}

/** Positional aliases (c0, c1…): client aliases never reach SQL. */
export function selections(p: Projection, resolver: ColumnResolver, auth: AuthContext, eb: ExpressionBuilder<any, any>) {
  return p.map((item, i) => (readableRef(eb, resolver, auth, item.name).ref as AliasableExpression<unknown>).as(`c${i}`));
}

export function decodeRows(p: Projection, rows: ReadonlyArray<Record<string, unknown>>, stripNulls: boolean): Array<Record<string, unknown>> {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    p.forEach((item, i) => {
      const value = decodeValue(item.column, row[`c${i}`]);
      if (!(stripNulls && value === null)) out[item.alias] = value;
    });
    return out;
  });
}

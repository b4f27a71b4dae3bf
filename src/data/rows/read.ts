import type { Expression, SqlBool } from 'kysely';
import { readableRef } from '../columns/permissions.js';
import type { ParsedQuery } from '../query/ast.js';
import { compileConditions } from '../query/compile.js';
import { combinePredicates, compileRules, isConstant, toExpression, type Compiled } from '../rules/compile.js';
import type { AuthContext } from '../rules/context.js';
import { createResolver, type ColumnResolver } from '../rules/resolver.js';
import type { Operation } from '../schema/types.js';
import type { TableModel } from '../schema/model.js';
import { builder, decodeRows, projection, selections, type RowContext } from './context.js';

export interface ReadRequest {
  table: TableModel;
  auth: AuthContext;
  query: ParsedQuery;
  count: boolean;
  /** At most this many rows are needed (2 for .single()). */
  cap: number | null;
  range: { offset: number; limit: number | null } | null;
  stripNulls: boolean;
}

export interface ReadResult {
  /** The names the rows carry, in select order: what this caller may read of what it asked for. */
  columns: string[];
  rows: Array<Record<string, unknown>>;
  offset: number;
  total: number | null;
}

/**
 * The rules of `ops` (all must allow: e.g. update needs update AND select, as
 * in PostgreSQL) AND the URL's conditions. `allowed` is false when the rules
 * alone already deny every row for this caller.
 */
export function rowPredicate(ctx: RowContext, resolver: ColumnResolver, auth: AuthContext, ops: Operation[], query: ParsedQuery): { allowed: boolean; where: Expression<SqlBool> } {
  const eb = builder();
  // Conditions compile first, so a bad filter is a 400 whatever the rules say: errors never depend on data.
  const conditions = compileConditions(eb, resolver, auth, ctx.capabilities, query.where);
  const rules: Compiled[] = ops.map((op) => compileRules(eb, resolver, auth, resolver.table.rules[op]));
  const rule = combinePredicates(eb, 'and', rules);
  const allowed = !isConstant(rule) || rule === true;
  return { allowed, where: toExpression(combinePredicates(eb, 'and', [rule, conditions])) };
}

export async function readRows(ctx: RowContext, req: ReadRequest): Promise<ReadResult> {
  const { table, auth, query } = req;
  const resolver = createResolver(table);
  const offset = query.offset ?? req.range?.offset ?? 0;
  let limit = Math.min(query.limit ?? ctx.limits.maxPageSize, req.range?.limit ?? ctx.limits.maxPageSize);
  if (req.cap !== null) limit = Math.min(limit, req.cap);

  const p = projection(resolver, auth, query.select);
  const eb = builder();
  const order = query.order.map((item) => ({ item, ref: readableRef(eb, resolver, auth, item.column).ref }));
  const { allowed, where } = rowPredicate(ctx, resolver, auth, ['select'], query);
  // Reads the rules deny are empty, not errors (PostgREST under RLS): no oracle.
  const columns = p.map((item) => item.alias);
  if (!allowed) return { columns, rows: [], offset, total: req.count ? 0 : null };

  let q = ctx.db.selectFrom(table.physical).select((e) => selections(p, resolver, auth, e)).where(where);
  for (const { item, ref } of order) {
    q = q.orderBy(ref, (ob) => {
      const dir = item.direction === 'asc' ? ob.asc() : ob.desc();
      return item.nulls === 'first' ? dir.nullsFirst() : dir.nullsLast();
    });
  }
  const rows = await q.limit(limit).offset(offset).execute();
  let total: number | null = null;
  if (req.count) {
    const c = await ctx.db.selectFrom(table.physical).select((e) => e.fn.countAll().as('n')).where(where).executeTakeFirst();
    total = Number(c?.n ?? 0);
  }
  return { columns, rows: decodeRows(p, rows, req.stripNulls), offset, total };
}

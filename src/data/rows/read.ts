import type { Expression, SqlBool } from 'kysely';
import type { ParsedQuery } from '../query/ast.js';
import { compileConditions } from '../query/compile.js';
import { combinePredicates, compileRules, isConstant, toExpression, type Compiled, type Values } from '../rules/compile.js';
import type { AuthContext } from '../rules/context.js';
import type { ColumnResolver } from '../rules/resolver.js';
import type { Operation } from '../schema/types.js';
import type { TableModel } from '../schema/model.js';
import { builder, type RowContext } from './context.js';
import { bindValues, type ReadPlan } from './read-plan.js';

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
  columns: readonly string[];
  /** The rows as stored, values in select order (for their count): the answer is `json()`, or `objects()`. */
  rows: ReadonlyArray<ReadonlyArray<unknown>>;
  offset: number;
  total: number | null;
  /** The rows as the response's JSON array, built straight from the stored rows. */
  json(): string;
  objects(): Array<Record<string, unknown>>;
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

/**
 * A read through its cached plan (read-plan.ts): the request is checked and its values collected,
 * the SQL of its shape is reused, and only the values are bound. The answer comes at once when the
 * engine can give it at once (SQLite with no transaction open), without a promise turn.
 */
export function readRows(ctx: RowContext, req: ReadRequest): ReadResult | Promise<ReadResult> {
  const { table, auth, query } = req;
  const offset = query.offset ?? req.range?.offset ?? 0;
  let limit = Math.min(query.limit ?? ctx.limits.maxPageSize, req.range?.limit ?? ctx.limits.maxPageSize);
  if (req.cap !== null) limit = Math.min(limit, req.cap);

  const { plan, values } = ctx.plans.plan(ctx, { table, auth, query, count: req.count, limit, offset, stripNulls: req.stripNulls });
  if (plan.denied) return { columns: plan.columns, rows: [], offset, total: req.count ? 0 : null, json: () => '[]', objects: () => [] };
  const parameters = bindValues(plan.rows!, values);
  if (!plan.total) {
    const rows = ctx.selectNow(plan.rows!.sql, parameters);
    if (rows !== null) return new PlannedResult(plan, rows, offset, null);
  }
  return readCounted(ctx, plan, parameters, values, offset);
}

async function readCounted(ctx: RowContext, plan: ReadPlan, parameters: unknown[], values: Values, offset: number): Promise<ReadResult> {
  const rows = await ctx.select(plan.rows!.sql, parameters);
  let total: number | null = null;
  if (plan.total) {
    const c = await ctx.select(plan.total.sql, bindValues(plan.total, values));
    total = Number(c[0]?.[0] ?? 0);
  }
  return new PlannedResult(plan, rows, offset, total);
}

/** A read's answer, serialised only when asked, by its plan. */
class PlannedResult implements ReadResult {
  readonly columns: readonly string[];
  constructor(private readonly plan: ReadPlan, readonly rows: ReadonlyArray<ReadonlyArray<unknown>>, readonly offset: number, readonly total: number | null) {
    this.columns = plan.columns;
  }

  json(): string {
    return this.plan.toJson(this.rows);
  }

  objects(): Array<Record<string, unknown>> {
    return this.plan.decode(this.rows);
  }
}

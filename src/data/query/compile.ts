import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { EngineCapabilities } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { maskedRef, readAccess, readableColumn, type ColumnAccess } from '../columns/permissions.js';
import { category, type Compiled, combinePredicates, type Values } from '../rules/compile.js';
import type { AuthContext } from '../rules/context.js';
import type { ColumnResolver } from '../rules/resolver.js';
import type { ColumnModel } from '../schema/model.js';
import { encodeValue, ValueError, type Stored } from '../schema/values.js';
import type { Condition, Filter } from './ast.js';

// URL conditions → a Kysely predicate, in two steps: `prepareConditions` checks every column and
// value (the 400s and 403s) and leaves a tree with slots in place of values; `buildConditions`
// makes the SQL of that tree. Column names resolve through the caller's column permissions
// (columns/), values are always bound parameters. A prepared tree holds no value, so printed it is
// part of a cached plan's key (rows/read-plan.ts).

const OPS = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function encodeFilterValue(column: ColumnModel, value: string): Stored {
  try {
    return encodeValue(column, value, true);
  } catch (error) {
    if (error instanceof ValueError) throw new GatehouseError('data_value_invalid', { message: error.message, details: { column: column.name } });
    throw error;
  }
}

function wrongType(column: ColumnModel, op: string): GatehouseError {
  return new GatehouseError('data_query_invalid', {
    message: `operator ${op} does not apply to column ${column.name} of type ${column.type}`,
    details: { column: column.name, operator: op },
  });
}

/**
 * PostgREST patterns: `*` or `%` match any run, `_` one character, `\` escapes.
 * Returned as tokens so each engine gets an exact translation.
 */
function patternTokens(pattern: string): Array<{ any: true } | { one: true } | { char: string }> {
  const out: Array<{ any: true } | { one: true } | { char: string }> = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) out.push({ char: pattern[++i]! });
    else if (c === '*' || c === '%') out.push({ any: true });
    else if (c === '_') out.push({ one: true });
    else out.push({ char: c });
  }
  return out;
}

const likePattern = (tokens: ReturnType<typeof patternTokens>) =>
  tokens.map((t) => ('any' in t ? '%' : 'one' in t ? '_' : /[%_\\]/.test(t.char) ? `\\${t.char}` : t.char)).join('');
const globPattern = (tokens: ReturnType<typeof patternTokens>) =>
  tokens.map((t) => ('any' in t ? '*' : 'one' in t ? '?' : /[*?[]/.test(t.char) ? `[${t.char}]` : t.char)).join('');

/** A URL condition checked and encoded for one caller: values are slots into the prepare's `values`. */
export type Prepared =
  | { k: 'f'; col: string; how: ColumnAccess; neg: boolean; form: PreparedForm }
  | { k: 'and' | 'or'; neg: boolean; items: Prepared[] };

type PreparedForm =
  | { f: 'null' }
  | { f: 'bool'; bit: 0 | 1 }
  | { f: 'in'; slots: number[] }
  | { f: 'like' | 'ilike' | 'glob'; slot: number }
  | { f: 'cmp'; op: (typeof OPS)[keyof typeof OPS]; slot: number };

function prepareForm(capabilities: EngineCapabilities, column: ColumnModel, filter: Filter, values: Values): PreparedForm {
  const kind = category(column.type);
  switch (filter.op) {
    case 'is': {
      const v = filter.value as string;
      if (v === 'null' || v === 'unknown') return { f: 'null' };
      if (kind !== 'boolean') throw wrongType(column, `is.${v}`);
      return { f: 'bool', bit: v === 'true' ? 1 : 0 };
    }
    case 'in': {
      if (kind === 'json') throw wrongType(column, 'in');
      return { f: 'in', slots: (filter.value as string[]).map((v) => values.push(encodeFilterValue(column, v)) - 1) };
    }
    case 'like':
    case 'ilike': {
      if (kind !== 'text') throw wrongType(column, filter.op);
      const tokens = patternTokens(filter.value as string);
      // SQLite's LIKE is already case-insensitive (ASCII); PostgreSQL needs ILIKE. Case-sensitive
      // on both: SQLite's LIKE is not, its GLOB is.
      if (filter.op === 'ilike') return capabilities.ilike ? { f: 'ilike', slot: values.push(likePattern(tokens)) - 1 } : { f: 'like', slot: values.push(likePattern(tokens)) - 1 };
      return capabilities.ilike ? { f: 'like', slot: values.push(likePattern(tokens)) - 1 } : { f: 'glob', slot: values.push(globPattern(tokens)) - 1 };
    }
    default: {
      if (kind === 'json') throw wrongType(column, filter.op);
      return { f: 'cmp', op: OPS[filter.op], slot: values.push(encodeFilterValue(column, filter.value as string)) - 1 };
    }
  }
}

function prepareCondition(resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, condition: Condition, values: Values): Prepared {
  if (condition.kind === 'filter') {
    const column = readableColumn(resolver, auth, condition.column);
    return { k: 'f', col: condition.column, how: readAccess(column, auth), neg: condition.negated, form: prepareForm(capabilities, column, condition, values) };
  }
  return { k: condition.kind, neg: condition.negated, items: condition.items.map((item) => prepareCondition(resolver, auth, capabilities, item, values)) };
}

/** The URL's conditions checked (400/403 here) and encoded into `values`. `values[uidSlot]` must be the caller's id. */
export function prepareConditions(resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, conditions: readonly Condition[], values: Values): Prepared[] {
  return conditions.map((c) => prepareCondition(resolver, auth, capabilities, c, values));
}

function buildCondition(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, p: Prepared, bind: (slot: number) => unknown, uid: unknown): Expression<SqlBool> {
  if (p.k !== 'f') {
    const items = p.items.map((item) => buildCondition(eb, resolver, item, bind, uid));
    const combined = p.k === 'and' ? eb.and(items) : eb.or(items);
    return p.neg ? eb.not(combined) : combined;
  }
  const ref = maskedRef(eb, resolver, p.col, p.how, uid);
  const form = p.form;
  let expr: Expression<SqlBool>;
  switch (form.f) {
    case 'null': return eb(ref, p.neg ? 'is not' : 'is', null);
    // IS NOT TRUE holds for NULL too, as in PostgreSQL.
    case 'bool': return p.neg ? eb.or([eb(ref, 'is', null), eb(ref, '<>', form.bit)]) : eb(ref, '=', form.bit);
    case 'in': expr = form.slots.length === 0 ? sql<SqlBool>`(1 = 0)` : eb(ref, 'in', form.slots.map(bind)); break;
    case 'ilike': expr = sql<SqlBool>`${ref} ilike ${bind(form.slot)} escape '\\'`; break;
    case 'like': expr = sql<SqlBool>`${ref} like ${bind(form.slot)} escape '\\'`; break;
    case 'glob': expr = sql<SqlBool>`${ref} glob ${bind(form.slot)}`; break;
    default: expr = eb(ref, form.op, bind(form.slot));
  }
  return p.neg ? eb.not(expr) : expr;
}

/** Prepared conditions ANDed, as a Compiled (true when there are none). `uid`: the caller's id, or its slot's stand-in. */
export function buildConditions(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, prepared: readonly Prepared[], bind: (slot: number) => unknown, uid: unknown): Compiled {
  return combinePredicates(eb, 'and', prepared.map((p) => buildCondition(eb, resolver, p, bind, uid)));
}

/** The URL's conditions ANDed, as a Compiled (true when there are none). */
export function compileConditions(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, conditions: readonly Condition[]): Compiled {
  const values: Values = [];
  const prepared = prepareConditions(resolver, auth, capabilities, conditions, values);
  return buildConditions(eb, resolver, prepared, (slot) => values[slot], auth.uid);
}

import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { EngineCapabilities } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { readableRef } from '../columns/permissions.js';
import { category, type Compiled, combinePredicates } from '../rules/compile.js';
import type { AuthContext } from '../rules/context.js';
import type { ColumnResolver } from '../rules/resolver.js';
import type { ColumnModel } from '../schema/model.js';
import { encodeValue, ValueError, type Stored } from '../schema/values.js';
import type { Condition, Filter } from './ast.js';

// URL conditions → a Kysely predicate. Column names resolve through the
// caller's column permissions (columns/), values are always bound parameters.

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

function compileFilter(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, filter: Filter): Expression<SqlBool> {
  const { column, ref } = readableRef(eb, resolver, auth, filter.column);
  const kind = category(column.type);
  let expr: Expression<SqlBool>;
  switch (filter.op) {
    case 'is': {
      const v = filter.value as string;
      if (v === 'null' || v === 'unknown') return eb(ref, filter.negated ? 'is not' : 'is', null);
      if (kind !== 'boolean') throw wrongType(column, `is.${v}`);
      const bit = v === 'true' ? 1 : 0;
      // IS NOT TRUE holds for NULL too, as in PostgreSQL.
      return filter.negated ? eb.or([eb(ref, 'is', null), eb(ref, '<>', bit)]) : eb(ref, '=', bit);
    }
    case 'in': {
      if (kind === 'json') throw wrongType(column, 'in');
      const values = (filter.value as string[]).map((v) => encodeFilterValue(column, v));
      expr = values.length === 0 ? sql<SqlBool>`(1 = 0)` : eb(ref, 'in', values);
      break;
    }
    case 'like':
    case 'ilike': {
      if (kind !== 'text') throw wrongType(column, filter.op);
      const tokens = patternTokens(filter.value as string);
      if (filter.op === 'ilike') {
        // SQLite's LIKE is already case-insensitive (ASCII); PostgreSQL needs ILIKE.
        expr = capabilities.ilike ? sql<SqlBool>`${ref} ilike ${likePattern(tokens)} escape '\\'` : sql<SqlBool>`${ref} like ${likePattern(tokens)} escape '\\'`;
      } else {
        // Case-sensitive on both: SQLite's LIKE is not, its GLOB is.
        expr = capabilities.ilike ? sql<SqlBool>`${ref} like ${likePattern(tokens)} escape '\\'` : sql<SqlBool>`${ref} glob ${globPattern(tokens)}`;
      }
      break;
    }
    default: {
      if (kind === 'json') throw wrongType(column, filter.op);
      expr = eb(ref, OPS[filter.op], encodeFilterValue(column, filter.value as string));
    }
  }
  return filter.negated ? eb.not(expr) : expr;
}

function compileCondition(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, condition: Condition): Expression<SqlBool> {
  if (condition.kind === 'filter') return compileFilter(eb, resolver, auth, capabilities, condition);
  const items = condition.items.map((item) => compileCondition(eb, resolver, auth, capabilities, item));
  const combined = condition.kind === 'and' ? eb.and(items) : eb.or(items);
  return condition.negated ? eb.not(combined) : combined;
}

/** The URL's conditions ANDed, as a Compiled (true when there are none). */
export function compileConditions(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, capabilities: EngineCapabilities, conditions: readonly Condition[]): Compiled {
  return combinePredicates(eb, 'and', conditions.map((c) => compileCondition(eb, resolver, auth, capabilities, c)));
}

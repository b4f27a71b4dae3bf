import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { ownRows, OWNER_COLUMN } from '../../access/index.js';
import type { ColumnModel, RuleEntry } from '../schema/model.js';
import type { ColumnType } from '../schema/types.js';
import { encodeValue, ValueError, type Stored } from '../schema/values.js';
import { inGroup, type AuthContext } from './context.js';
import type { CompareOp, Operand, RuleExpr } from './expression.js';
import type { ColumnResolver } from './resolver.js';

// Rule entries → one Kysely predicate for this caller. The caller's values
// (auth.uid, claims…) are known per request, so comparisons without a column
// fold to constants here; the rest become `column op $n` with bound values.
// SQL's three-valued logic is kept: `true | false | null` constants, where
// null (unknown: e.g. auth.uid of a guest) never allows, even under `!`.

export type Compiled = boolean | null | Expression<SqlBool>;

const TRUE = sql<SqlBool>`(1 = 1)`;
const FALSE = sql<SqlBool>`(1 = 0)`;
const UNKNOWN = sql<SqlBool>`(1 = null)`;

export const isConstant = (c: Compiled): c is boolean | null => c === null || typeof c === 'boolean';

export function toExpression(c: Compiled): Expression<SqlBool> {
  if (c === true) return TRUE;
  if (c === false) return FALSE;
  if (c === null) return UNKNOWN;
  return c;
}

const SQL_OPS: Record<CompareOp, '=' | '<>' | '<' | '<=' | '>' | '>='> = { '==': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const FLIPPED: Record<CompareOp, CompareOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

export function category(type: ColumnType): 'text' | 'number' | 'boolean' | 'json' {
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'json') return 'json';
  return 'text';
}

/** auth.* and literals: the caller's value of an operand without a column. */
export function operandValue(operand: Exclude<Operand, { kind: 'column' }>, auth: AuthContext): unknown {
  if (operand.kind === 'literal') return operand.value;
  if (operand.kind === 'claim') {
    const v = auth.claims[operand.name];
    // Only scalar claims compare; an object or array claim is unknown, never a match.
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  return operand.field === 'uid' ? auth.uid : operand.field === 'role' ? auth.role : auth.group;
}

/** Kleene comparison of two JS values (both sides known). */
export function compareValues(op: CompareOp, a: unknown, b: unknown, literalNull: boolean): boolean | null {
  if (a === null || b === null) {
    if (!literalNull) return null;
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    return null;
  }
  // Values of different types are unknown, as a column value that does not fit: else
  // `!(auth.claims.banned == true)` would allow a token whose claim is the string "true".
  if (typeof a !== typeof b) return null;
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return (a as number) < (b as number);
    case '<=': return (a as number) <= (b as number);
    case '>': return (a as number) > (b as number);
    case '>=': return (a as number) >= (b as number);
  }
}

/** Encodes a rule value for comparison with a column; null if it cannot match (wrong type). */
export function encodeForColumn(column: ColumnModel, value: unknown): Stored | undefined {
  try {
    return encodeValue(column, value, true);
  } catch (error) {
    if (error instanceof ValueError) return undefined;
    throw error;
  }
}

function compileCompare(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, op: CompareOp, left: Operand, right: Operand): Compiled {
  if (left.kind !== 'column' && right.kind === 'column') return compileCompare(eb, resolver, auth, FLIPPED[op], right, left);
  if (left.kind !== 'column') {
    const literalNull = (left.kind === 'literal' && left.value === null) || (right.kind === 'literal' && right.value === null);
    return compareValues(op, operandValue(left, auth), operandValue(right as Exclude<Operand, { kind: 'column' }>, auth), literalNull);
  }
  const column = resolver.model(left.name);
  if (!column) return false;
  const ref = resolver.ref(eb, left.name);
  if (right.kind === 'column') {
    const other = resolver.model(right.name);
    if (!other) return false;
    // Columns of different kinds never compare (SQLite would coerce, PostgreSQL would fail):
    // unknown, like a caller value that does not fit its column, so not even `!` makes it allow.
    if (category(other.type) !== category(column.type)) return null;
    return eb(ref, SQL_OPS[op], resolver.ref(eb, right.name));
  }
  const value = operandValue(right, auth);
  if (value === null) {
    if (!(right.kind === 'literal')) return null; // e.g. auth.uid of a guest: unknown, never a match
    if (op === '==') return eb(ref, 'is', null);
    if (op === '!=') return eb(ref, 'is not', null);
    return null;
  }
  const encoded = encodeForColumn(column, value);
  if (encoded === undefined || encoded === null) return null;
  return eb(ref, SQL_OPS[op], encoded);
}

function combine(eb: ExpressionBuilder<any, any>, kind: 'and' | 'or', items: Compiled[]): Compiled {
  const absorbing = kind === 'and' ? false : true;
  if (items.some((c) => c === absorbing)) return absorbing;
  const rest = items.filter((c) => c !== !absorbing);
  if (rest.length === 0) return !absorbing;
  if (rest.every((c) => c === null)) return null;
  const exprs = rest.map(toExpression);
  if (exprs.length === 1) return exprs[0]!;
  return kind === 'and' ? eb.and(exprs) : eb.or(exprs);
}

export function compileExpr(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, expr: RuleExpr): Compiled {
  switch (expr.kind) {
    case 'compare': return compileCompare(eb, resolver, auth, expr.op, expr.left, expr.right);
    case 'not': {
      const inner = compileExpr(eb, resolver, auth, expr.item);
      if (inner === null) return null;
      if (typeof inner === 'boolean') return !inner;
      return eb.not(inner);
    }
    default: return combine(eb, expr.kind, expr.items.map((item) => compileExpr(eb, resolver, auth, item)));
  }
}

export function compileEntry(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, entry: RuleEntry): Compiled {
  if (entry.group === 'self') return auth.uid === null ? false : ownRows(eb, resolver.ref(eb, OWNER_COLUMN), auth.uid);
  if (entry.group) return inGroup(auth, entry.group);
  return compileExpr(eb, resolver, auth, entry.expr!);
}

/** Any entry allows: the operation's row predicate for this caller. */
export function compileRules(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, entries: readonly RuleEntry[]): Compiled {
  return combine(eb, 'or', entries.map((entry) => compileEntry(eb, resolver, auth, entry)));
}

export { combine as combinePredicates };

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

/**
 * A rule list folded for one caller: what the caller's values decided is a constant, and each value
 * that still reaches SQL is a slot (an index into the `values` the fold filled). The same folded
 * rules with other values give the same SQL, so a folded rule, printed, is part of a cached plan's
 * key (rows/read-plan.ts); it holds no value, only slots.
 */
export type Folded = boolean | null | FoldedNode;
export type FoldedNode =
  | { k: 'cmp'; col: string; op: (typeof SQL_OPS)[CompareOp]; slot: number }
  | { k: 'is'; col: string; not: boolean }
  | { k: 'cols'; col: string; op: (typeof SQL_OPS)[CompareOp]; other: string }
  | { k: 'own'; slot: number }
  | { k: 'not'; item: FoldedNode }
  | { k: 'and' | 'or'; items: Array<FoldedNode | null> };

/** Where a fold puts the values that reach SQL: their index is the slot. */
export type Values = unknown[];

function foldCompare(resolver: ColumnResolver, auth: AuthContext, values: Values, op: CompareOp, left: Operand, right: Operand): Folded {
  if (left.kind !== 'column' && right.kind === 'column') return foldCompare(resolver, auth, values, FLIPPED[op], right, left);
  if (left.kind !== 'column') {
    const literalNull = (left.kind === 'literal' && left.value === null) || (right.kind === 'literal' && right.value === null);
    return compareValues(op, operandValue(left, auth), operandValue(right as Exclude<Operand, { kind: 'column' }>, auth), literalNull);
  }
  const column = resolver.model(left.name);
  if (!column) return false;
  if (right.kind === 'column') {
    const other = resolver.model(right.name);
    if (!other) return false;
    // Columns of different kinds never compare (SQLite would coerce, PostgreSQL would fail):
    // unknown, like a caller value that does not fit its column, so not even `!` makes it allow.
    if (category(other.type) !== category(column.type)) return null;
    return { k: 'cols', col: left.name, op: SQL_OPS[op], other: right.name };
  }
  const value = operandValue(right, auth);
  if (value === null) {
    if (!(right.kind === 'literal')) return null; // e.g. auth.uid of a guest: unknown, never a match
    if (op === '==') return { k: 'is', col: left.name, not: false };
    if (op === '!=') return { k: 'is', col: left.name, not: true };
    return null;
  }
  const encoded = encodeForColumn(column, value);
  if (encoded === undefined || encoded === null) return null;
  return { k: 'cmp', col: left.name, op: SQL_OPS[op], slot: values.push(encoded) - 1 };
}

function foldCombine(kind: 'and' | 'or', items: Folded[]): Folded {
  const absorbing = kind === 'and' ? false : true;
  if (items.some((c) => c === absorbing)) return absorbing;
  const rest = items.filter((c) => c !== !absorbing) as Array<FoldedNode | null>;
  if (rest.length === 0) return !absorbing;
  if (rest.every((c) => c === null)) return null;
  if (rest.length === 1) return rest[0]!;
  return { k: kind, items: rest };
}

function foldExpr(resolver: ColumnResolver, auth: AuthContext, values: Values, expr: RuleExpr): Folded {
  switch (expr.kind) {
    case 'compare': return foldCompare(resolver, auth, values, expr.op, expr.left, expr.right);
    case 'not': {
      const inner = foldExpr(resolver, auth, values, expr.item);
      if (inner === null) return null;
      if (typeof inner === 'boolean') return !inner;
      return { k: 'not', item: inner };
    }
    default: return foldCombine(expr.kind, expr.items.map((item) => foldExpr(resolver, auth, values, item)));
  }
}

function foldEntry(resolver: ColumnResolver, auth: AuthContext, values: Values, entry: RuleEntry): Folded {
  if (entry.group === 'self') return auth.uid === null ? false : { k: 'own', slot: values.push(auth.uid) - 1 };
  if (entry.group) return inGroup(auth, entry.group);
  return foldExpr(resolver, auth, values, entry.expr!);
}

/** Any entry allows: the operation's rules folded for this caller. */
export function foldRules(resolver: ColumnResolver, auth: AuthContext, entries: readonly RuleEntry[], values: Values): Folded {
  return foldCombine('or', entries.map((entry) => foldEntry(resolver, auth, values, entry)));
}

/** A folded rule as a Kysely predicate; `bind(slot)` is the value (or what stands for it in a plan). */
export function buildFolded(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, folded: Folded, bind: (slot: number) => unknown): Compiled {
  if (folded === null || typeof folded === 'boolean') return folded;
  switch (folded.k) {
    case 'cmp': return eb(resolver.ref(eb, folded.col), folded.op, bind(folded.slot));
    case 'is': return eb(resolver.ref(eb, folded.col), folded.not ? 'is not' : 'is', null);
    case 'cols': return eb(resolver.ref(eb, folded.col), folded.op, resolver.ref(eb, folded.other));
    case 'own': return ownRows(eb, resolver.ref(eb, OWNER_COLUMN), bind(folded.slot) as string);
    case 'not': return eb.not(buildFolded(eb, resolver, folded.item, bind) as Expression<SqlBool>);
    default: {
      const exprs = folded.items.map((item) => toExpression(buildFolded(eb, resolver, item, bind)));
      return folded.k === 'and' ? eb.and(exprs) : eb.or(exprs);
    }
  }
}

/** Any entry allows: the operation's row predicate for this caller. */
export function compileRules(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, auth: AuthContext, entries: readonly RuleEntry[]): Compiled {
  const values: Values = [];
  return buildFolded(eb, resolver, foldRules(resolver, auth, entries, values), (slot) => values[slot]);
}

/** Several Compiled ANDed or ORed, constants folded (the URL's conditions with the rules). */
export function combinePredicates(eb: ExpressionBuilder<any, any>, kind: 'and' | 'or', items: Compiled[]): Compiled {
  const absorbing = kind === 'and' ? false : true;
  if (items.some((c) => c === absorbing)) return absorbing;
  const rest = items.filter((c) => c !== !absorbing);
  if (rest.length === 0) return !absorbing;
  if (rest.every((c) => c === null)) return null;
  const exprs = rest.map(toExpression);
  if (exprs.length === 1) return exprs[0]!;
  return kind === 'and' ? eb.and(exprs) : eb.or(exprs);
}

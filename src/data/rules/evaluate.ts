import { isOwnRow } from '../../access/index.js';
import type { RuleEntry, TableModel } from '../schema/model.js';
import { category, compareValues, encodeForColumn, operandValue } from './compile.js';
import { inGroup, type AuthContext } from './context.js';
import type { Operand, RuleExpr } from './expression.js';

// The same rules as compile.ts, evaluated in JS against one given row, for the
// policy tester. `undefined` in the result: the rule depends on a row and none
// was given. Semantics mirror the SQL: unknown (null) never allows.

export type Verdict = boolean | null | undefined;

type Row = Readonly<Record<string, unknown>> | null;

function side(table: TableModel, row: Row, auth: AuthContext, operand: Operand, against: Operand): unknown {
  if (operand.kind !== 'column') {
    const value = operandValue(operand, auth);
    const column = against.kind === 'column' ? table.columns.get(against.name) : undefined;
    if (!column || value === null) return value;
    const encoded = encodeForColumn(column, value);
    return encoded === undefined ? Symbol('mismatch') : encoded;
  }
  if (!row) return undefined;
  const column = table.columns.get(operand.name);
  const raw = row[operand.name];
  if (!column || raw === undefined || raw === null) return null;
  const encoded = encodeForColumn(column, raw);
  return encoded === undefined ? null : encoded;
}

function evalExpr(table: TableModel, row: Row, auth: AuthContext, expr: RuleExpr): Verdict {
  switch (expr.kind) {
    case 'compare': {
      if (expr.left.kind === 'column' && expr.right.kind === 'column') {
        const l = table.columns.get(expr.left.name);
        const r = table.columns.get(expr.right.name);
        // As in compile.ts: columns of different kinds are unknown, whatever the row.
        if (l && r && category(l.type) !== category(r.type)) return null;
      }
      const a = side(table, row, auth, expr.left, expr.right);
      const b = side(table, row, auth, expr.right, expr.left);
      const literalNull = [expr.left, expr.right].some((o) => o.kind === 'literal' && o.value === null);
      // As in compile.ts: a caller value that is unknown (or cannot fit the column) decides without a row.
      const callerSide = expr.left.kind === 'column' ? b : a;
      const hasColumn = expr.left.kind === 'column' || expr.right.kind === 'column';
      if (hasColumn && (typeof callerSide === 'symbol' || (callerSide === null && !literalNull))) return null;
      if (a === undefined || b === undefined) return undefined;
      if (typeof a === 'symbol' || typeof b === 'symbol') return null;
      return compareValues(expr.op, a, b, literalNull);
    }
    case 'not': {
      const v = evalExpr(table, row, auth, expr.item);
      return v === undefined || v === null ? v : !v;
    }
    default: {
      const values = expr.items.map((item) => evalExpr(table, row, auth, item));
      const absorbing = expr.kind === 'and' ? false : true;
      if (values.includes(absorbing)) return absorbing;
      if (values.includes(undefined)) return undefined;
      if (values.includes(null)) return null;
      return !absorbing;
    }
  }
}

export function evaluateEntry(table: TableModel, row: Row, auth: AuthContext, entry: RuleEntry): Verdict {
  if (entry.group === 'self') {
    if (auth.uid === null) return false;
    if (!row) return undefined;
    return isOwnRow(row, auth.uid);
  }
  if (entry.group) return inGroup(auth, entry.group);
  return evalExpr(table, row, auth, entry.expr!);
}

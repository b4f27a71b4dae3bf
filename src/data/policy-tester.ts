import { OWNER_COLUMN } from '../access/index.js';
import { GatehouseError } from '../errors/index.js';
import { readAccess, writeAccess } from './columns/permissions.js';
import type { AuthContext } from './rules/context.js';
import { evaluateEntry } from './rules/evaluate.js';
import type { TableModel } from './schema/model.js';
import { OPERATIONS, type Operation } from './schema/types.js';

// "Would this caller be allowed, and by which rule?" — for the admin API and
// the CLI. It runs the same rule entries as the SQL path (rules/evaluate.ts
// mirrors rules/compile.ts), on a row given as JSON or on no row at all.

export interface PolicyTestInput {
  operation: Operation;
  caller: { group: 'guest' | 'user' | 'admin'; user_id?: string | null; role?: string | null; claims?: Record<string, unknown> };
  row?: Record<string, unknown> | null;
}

export interface RuleCheck {
  operation: Operation;
  /** allow, deny, or depends_on_row (no row given and only row rules could allow). */
  decision: 'allow' | 'deny' | 'depends_on_row';
  /** The rule entry that decided (first that allows), or null. */
  rule: string | null;
  index: number | null;
}

export interface PolicyTestResult {
  decision: 'allow' | 'deny' | 'depends_on_row';
  reason: string;
  /** The operation's rules, and for every operation but select the select rules too (a write must stay visible). */
  checks: RuleCheck[];
  columns: { readable: string[]; self_readable: string[]; writable: string[]; self_writable: string[] };
}

function check(table: TableModel, auth: AuthContext, op: Operation, row: Record<string, unknown> | null): RuleCheck {
  const entries = table.rules[op];
  let pending: number | null = null;
  for (const [i, entry] of entries.entries()) {
    const verdict = evaluateEntry(table, row, auth, entry);
    if (verdict === true) return { operation: op, decision: 'allow', rule: entry.source, index: i };
    if (verdict === undefined && pending === null) pending = i;
  }
  if (pending !== null) return { operation: op, decision: 'depends_on_row', rule: entries[pending]!.source, index: pending };
  return { operation: op, decision: 'deny', rule: null, index: null };
}

export function testPolicy(table: TableModel, input: PolicyTestInput): PolicyTestResult {
  if (!(OPERATIONS as readonly string[]).includes(input.operation)) {
    throw new GatehouseError('validation_failed', { message: `operation must be one of ${OPERATIONS.join(', ')}` });
  }
  // A `user` needs an id to be one; without it the tester stands in an id that owns no row.
  const uid = input.caller.group === 'guest' ? null : input.caller.user_id ?? (input.caller.group === 'user' ? 'usr_policy_tester' : null);
  const auth: AuthContext = { group: input.caller.group, uid, role: input.caller.role ?? null, claims: input.caller.claims ?? {} };
  const row = input.row ?? null;
  // An insert's row gets created_by from the server: the tester does the same.
  const effectiveRow = row && input.operation === 'insert' ? { ...row, [OWNER_COLUMN]: uid } : row;
  const ops: Operation[] = input.operation === 'select' ? ['select'] : [input.operation, 'select'];
  const checks = ops.map((op) => check(table, auth, op, effectiveRow));
  const denied = checks.find((c) => c.decision === 'deny');
  const pending = checks.find((c) => c.decision === 'depends_on_row');
  const decision = denied ? 'deny' : pending ? 'depends_on_row' : 'allow';
  const reason = denied
    ? `no ${denied.operation} rule of ${table.name} allows this caller${table.rules[denied.operation].length === 0 ? ' (the table has no rule for it)' : ''}`
    : pending
      ? `rule ${JSON.stringify(pending.rule)} of ${pending.operation} depends on the row: pass one`
      : checks.map((c) => `${c.operation} allowed by ${JSON.stringify(c.rule)}`).join('; ');
  const columns = { readable: [] as string[], self_readable: [] as string[], writable: [] as string[], self_writable: [] as string[] };
  for (const column of table.columns.values()) {
    const r = readAccess(column, auth);
    const w = writeAccess(column, auth);
    if (r === 'all') columns.readable.push(column.name);
    if (r === 'self') columns.self_readable.push(column.name);
    if (w === 'all') columns.writable.push(column.name);
    if (w === 'self') columns.self_writable.push(column.name);
  }
  return { decision, reason, checks, columns };
}

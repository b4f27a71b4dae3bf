import { hasScope, isOwnRow, type Caller } from '../../access/index.js';
import {
  authContextOf, evaluateEntry, readAccess, tableScope, type AuthContext, type ColumnModel, type TableModel,
} from '../../data/index.js';
import { parseRowFilter, type RowFilter } from './filter.js';

// What one subscriber may see of one table, worked out once per (caller, table model) and reused
// for every change: the Data API's own rule entries, evaluated in memory against the whole row
// (rules/evaluate.ts, held equal to the compiled SQL by its tests), and its column permissions.
// Every rule of the rule language reads only the caller and the row's own columns, and the row
// carries every column, so no change ever needs a database read here.

export interface View {
  caller: Caller;
  table: TableModel;
  auth: AuthContext;
  /** The key still holds data:<table>:read (checked again per change: the socket may swap the caller). */
  scoped: boolean;
  /** Readable columns in table order; `self`: readable only on the caller's own rows (NULL elsewhere, as in SQL). */
  columns: Array<{ column: ColumnModel; self: boolean }>;
  meta: Array<{ name: string; type: string }>;
  /** Same signature, same masked output for the same row: lets one payload serve many subscribers. */
  signature: string;
  /**
   * Callers the rules cannot tell apart (no user: the rules see only the key's group) share it, so
   * a fan-out decides the select rules on a row once for all of them; null for a signed-in user.
   */
  ruleIdentity: string | null;
  /** The subscription's filter against this table model; 'refused' when it no longer applies (column gone or unreadable). */
  filter: RowFilter | null | 'refused';
}

/** realtime-js converts record values by these PostgreSQL type names (bool, int8, jsonb…). */
const WIRE_TYPES: Record<string, string> = {
  text: 'text', integer: 'int8', number: 'float8', boolean: 'bool', timestamp: 'timestamptz', json: 'jsonb', uuid: 'uuid', reference: 'uuid',
};

export function viewOf(caller: Caller, table: TableModel, filterText: string | undefined): View {
  const auth = authContextOf(caller);
  const columns: View['columns'] = [];
  for (const column of table.columns.values()) {
    const access = readAccess(column, auth);
    if (access !== 'none') columns.push({ column, self: access === 'self' });
  }
  let filter: View['filter'] = null;
  if (filterText !== undefined) {
    try {
      filter = parseRowFilter(filterText, table, auth);
    } catch {
      filter = 'refused';
    }
  }
  return {
    caller, table, auth, filter, columns,
    scoped: hasScope(caller.key.scopes, tableScope(table.name, 'read')),
    meta: columns.map(({ column }) => ({ name: column.name, type: WIRE_TYPES[column.type] ?? 'text' })),
    signature: columns.map(({ column, self }) => (self ? `${column.name}~` : column.name)).join(','),
    ruleIdentity: ruleIdentityOf(auth),
  };
}

/**
 * Every field of AuthContext, named here so that a field added there fails to compile until
 * ruleIdentityOf says whether callers who differ in it may still share a decision.
 */
const RULE_INPUTS: Record<keyof AuthContext, true> = { group: true, uid: true, role: true, claims: true };
void RULE_INPUTS;

/** The rules read group, uid, role and claims; without a user the last three are fixed (null, null, {}). */
function ruleIdentityOf(auth: AuthContext): string | null {
  if (auth.uid !== null || auth.role !== null || Object.keys(auth.claims).length > 0) return null;
  return `group:${auth.group}`;
}

/** Whether some select rule could allow a row for this caller (else the table is as unknown to it). */
export function mayEverSelect(view: View): boolean {
  return view.table.rules.select.some((entry) => {
    const verdict = evaluateEntry(view.table, null, view.auth, entry);
    return verdict === true || verdict === undefined;
  });
}

/** The select rules on this row, as the Data API's WHERE would decide it: some entry allows. */
export function canSelect(view: View, row: Readonly<Record<string, unknown>>): boolean {
  return view.table.rules.select.some((entry) => evaluateEntry(view.table, row, view.auth, entry) === true);
}

export function hasSelfColumns(view: View): boolean {
  return view.columns.some((c) => c.self);
}

/** The row as select=* would return it to this caller: unreadable columns left out, `self` ones NULL on others' rows. */
export function mask(view: View, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const own = isOwnRow(row, view.auth.uid);
  const out: Record<string, unknown> = {};
  for (const { column, self } of view.columns) out[column.name] = self && !own ? null : (row[column.name] ?? null);
  return out;
}

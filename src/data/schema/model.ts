import { parseRule, type ParseRuleOptions, type RuleExpr } from '../rules/expression.js';
import {
  DEFAULT_RULES, OPERATIONS, RULE_GROUPS, SYSTEM_COLUMNS,
  type ColumnSpec, type ColumnType, type Operation, type RuleGroup, type TableSpec,
} from './types.js';

/** One entry of an operation's rule list: a group, or an expression. */
export interface RuleEntry {
  source: string;
  group: RuleGroup | null;
  expr: RuleExpr | null;
}

export interface ColumnModel {
  name: string;
  type: ColumnType;
  system: boolean;
  required: boolean;
  unique: boolean;
  default: unknown;
  maxLength: number | null;
  /** Referenced table (logical name) for `reference` columns. */
  references: string | null;
  /** null: whoever can read/write the row. */
  read: ReadonlySet<RuleGroup> | null;
  write: ReadonlySet<RuleGroup> | null;
}

/** A user table, compiled once per schema version and cached (schema/service.ts). */
export interface TableModel {
  name: string;
  physical: string;
  columns: ReadonlyMap<string, ColumnModel>;
  rules: Readonly<Record<Operation, readonly RuleEntry[]>>;
  spec: TableSpec;
}

const SYSTEM_TYPES: Record<(typeof SYSTEM_COLUMNS)[number], ColumnType> = {
  id: 'uuid', created_by: 'text', created_at: 'timestamp', updated_at: 'timestamp',
};

export function parseRuleEntry(source: string, options?: ParseRuleOptions): RuleEntry {
  const trimmed = source.trim();
  if ((RULE_GROUPS as readonly string[]).includes(trimmed)) return { source, group: trimmed as RuleGroup, expr: null };
  return { source, group: null, expr: parseRule(trimmed, options) };
}

function columnModel(name: string, spec: ColumnSpec): ColumnModel {
  return {
    name,
    type: spec.type,
    system: false,
    required: spec.required ?? false,
    unique: spec.unique ?? false,
    default: spec.default ?? null,
    maxLength: spec.max_length ?? null,
    references: spec.type === 'reference' ? spec.table ?? null : null,
    read: spec.read ? new Set(spec.read) : null,
    write: spec.write ? new Set(spec.write) : null,
  };
}

/** Assumes a validated spec (validate.ts); throws RuleSyntaxError otherwise. */
export function buildTableModel(name: string, physical: string, spec: TableSpec): TableModel {
  const columns = new Map<string, ColumnModel>();
  for (const sys of SYSTEM_COLUMNS) {
    columns.set(sys, {
      name: sys, type: SYSTEM_TYPES[sys], system: true, required: false, unique: sys === 'id', default: null,
      maxLength: null, references: null, read: null, write: new Set(),
    });
  }
  for (const [column, columnSpec] of Object.entries(spec.columns)) columns.set(column, columnModel(column, columnSpec));
  // A table that declares rules gets exactly those: an operation left out is denied.
  const declared = spec.rules;
  const rules = {} as Record<Operation, RuleEntry[]>;
  for (const op of OPERATIONS) rules[op] = (declared ? declared[op] ?? [] : DEFAULT_RULES[op]).map((source) => parseRuleEntry(source));
  return { name, physical, columns, rules, spec };
}

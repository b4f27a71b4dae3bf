// The schema file an app keeps in its repository (docs/data-api.md), and the
// model Gatehouse compiles it into. Snake_case keys, as in the JSON file.

export const COLUMN_TYPES = ['text', 'integer', 'number', 'boolean', 'timestamp', 'json', 'uuid', 'reference'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Row-rule groups (docs/api.md). `self`: the row's created_by is the caller. */
export const RULE_GROUPS = ['admin', 'user', 'guest', 'self'] as const;
export type RuleGroup = (typeof RULE_GROUPS)[number];

export interface ColumnSpec {
  type: ColumnType;
  required?: boolean;
  unique?: boolean;
  default?: string | number | boolean | null | Record<string, unknown> | unknown[];
  max_length?: number;
  /** For `reference`: the referenced table of the same project environment. */
  table?: string;
  on_delete?: 'cascade' | 'set null' | 'restrict';
  /** Groups that may read this column; absent: everyone who can read the row. */
  read?: RuleGroup[];
  /** Groups that may write this column; absent: everyone who can write the row. */
  write?: RuleGroup[];
}

export interface TableSpec {
  columns: Record<string, ColumnSpec>;
  /** Per operation, a list of groups and rule expressions; any match allows. */
  rules?: Partial<Record<Operation, string[]>>;
}

export interface SchemaDocument {
  tables: Record<string, TableSpec>;
}

/** Issue #4: admin all, user create/read, guest nothing, self update/delete. */
export const DEFAULT_RULES: Record<Operation, string[]> = {
  select: ['admin', 'user'],
  insert: ['admin', 'user'],
  update: ['admin', 'self'],
  delete: ['admin', 'self'],
};

/** Columns every table has; set by the server only. */
export const SYSTEM_COLUMNS = ['id', 'created_by', 'created_at', 'updated_at'] as const;
export type SystemColumn = (typeof SYSTEM_COLUMNS)[number];

export function isSystemColumn(name: string): name is SystemColumn {
  return (SYSTEM_COLUMNS as readonly string[]).includes(name);
}

import { RuleSyntaxError, ruleColumns } from '../rules/expression.js';
import { isIdentifier } from '../names.js';
import { buildTableModel, parseRuleEntry } from './model.js';
import {
  COLUMN_TYPES, OPERATIONS, RULE_GROUPS, isSystemColumn,
  type ColumnSpec, type SchemaDocument, type TableSpec,
} from './types.js';
import { encodeValue, ValueError } from './values.js';

export interface SchemaProblem {
  path: string;
  message: string;
}

/** Thrown with every problem found, so a schema file is fixed in one round. */
export class SchemaInvalid extends Error {
  constructor(readonly problems: SchemaProblem[]) {
    super(`the schema is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'SchemaInvalid';
  }
}

export const SCHEMA_LIMITS = { tables: 100, columns: 100, rulesPerOperation: 20, maxLength: 1_000_000 } as const;

/** Query parameters of the URL grammar (query/parse.ts): a column so named could not be filtered. */
const RESERVED_COLUMNS = new Set(['select', 'order', 'limit', 'offset', 'or', 'and', 'not', 'columns', 'on_conflict']);
const COLUMN_KEYS = new Set(['type', 'required', 'unique', 'default', 'max_length', 'table', 'on_delete', 'read', 'write']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkGroups(value: unknown, path: string, problems: SchemaProblem[]): void {
  if (!Array.isArray(value) || !value.every((g) => (RULE_GROUPS as readonly unknown[]).includes(g))) {
    problems.push({ path, message: `must be a list of groups (${RULE_GROUPS.join(', ')})` });
  }
}

function checkColumn(spec: unknown, path: string, tables: Set<string>, problems: SchemaProblem[]): void {
  if (!isObject(spec)) return void problems.push({ path, message: 'must be an object' });
  for (const key of Object.keys(spec)) if (!COLUMN_KEYS.has(key)) problems.push({ path: `${path}.${key}`, message: 'unknown setting' });
  const type = spec.type;
  if (!(COLUMN_TYPES as readonly unknown[]).includes(type)) return void problems.push({ path: `${path}.type`, message: `must be one of ${COLUMN_TYPES.join(', ')}` });
  for (const flag of ['required', 'unique'] as const) {
    if (spec[flag] !== undefined && typeof spec[flag] !== 'boolean') problems.push({ path: `${path}.${flag}`, message: 'must be true or false' });
  }
  if (spec.unique && type === 'json') problems.push({ path: `${path}.unique`, message: 'json columns cannot be unique' });
  if (spec.max_length !== undefined) {
    if (type !== 'text') problems.push({ path: `${path}.max_length`, message: 'only text columns have a max_length' });
    else if (!Number.isInteger(spec.max_length) || (spec.max_length as number) < 1 || (spec.max_length as number) > SCHEMA_LIMITS.maxLength) {
      problems.push({ path: `${path}.max_length`, message: `must be an integer from 1 to ${SCHEMA_LIMITS.maxLength}` });
    }
  }
  if (type === 'reference') {
    if (typeof spec.table !== 'string' || !tables.has(spec.table)) problems.push({ path: `${path}.table`, message: 'must name a table of this schema' });
    if (spec.on_delete !== undefined && !['cascade', 'set null', 'restrict'].includes(spec.on_delete as string)) {
      problems.push({ path: `${path}.on_delete`, message: 'must be cascade, set null or restrict' });
    }
  } else if (spec.table !== undefined || spec.on_delete !== undefined) {
    problems.push({ path, message: 'table and on_delete are only for reference columns' });
  }
  if (spec.read !== undefined) checkGroups(spec.read, `${path}.read`, problems);
  if (spec.write !== undefined) checkGroups(spec.write, `${path}.write`, problems);
  if (spec.default !== undefined && spec.default !== null) {
    if (type === 'reference' || type === 'uuid') problems.push({ path: `${path}.default`, message: `${type} columns cannot have a default` });
    else {
      try {
        const stored = encodeValue({ name: path, type, maxLength: null } as never, spec.default);
        if (typeof stored === 'string' && typeof spec.max_length === 'number' && stored.length > spec.max_length) {
          problems.push({ path: `${path}.default`, message: 'is longer than max_length' });
        }
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        problems.push({ path: `${path}.default`, message: `is not a valid ${type}` });
      }
    }
  }
}

function checkRules(spec: TableSpec, path: string, problems: SchemaProblem[]): void {
  const rules: unknown = spec.rules;
  if (rules === undefined) return;
  if (!isObject(rules)) return void problems.push({ path, message: 'must be an object of operation → list' });
  const model = buildTableModel('check', 'check', { columns: spec.columns });
  for (const [op, entries] of Object.entries(rules)) {
    const at = `${path}.${op}`;
    if (!(OPERATIONS as readonly string[]).includes(op)) { problems.push({ path: at, message: `unknown operation (${OPERATIONS.join(', ')})` }); continue; }
    if (!Array.isArray(entries) || entries.length > SCHEMA_LIMITS.rulesPerOperation || !entries.every((e) => typeof e === 'string')) {
      problems.push({ path: at, message: `must be a list of at most ${SCHEMA_LIMITS.rulesPerOperation} groups or rule expressions` });
      continue;
    }
    entries.forEach((entry: string, i) => {
      try {
        const parsed = parseRuleEntry(entry);
        if (!parsed.expr) return;
        for (const column of ruleColumns(parsed.expr)) {
          const c = model.columns.get(column);
          if (!c) problems.push({ path: `${at}[${i}]`, message: `unknown column ${column}` });
          else if (c.type === 'json') problems.push({ path: `${at}[${i}]`, message: `json column ${column} cannot be used in a rule` });
        }
      } catch (error) {
        if (!(error instanceof RuleSyntaxError)) throw error;
        problems.push({ path: `${at}[${i}]`, message: error.message });
      }
    });
  }
}

/** Checks a whole schema document (untrusted JSON) and returns it typed. */
export function validateSchema(input: unknown): SchemaDocument {
  const problems: SchemaProblem[] = [];
  if (!isObject(input) || !isObject(input.tables)) throw new SchemaInvalid([{ path: 'tables', message: 'must be an object of table name → table' }]);
  for (const key of Object.keys(input)) if (key !== 'tables' && key !== '$schema') problems.push({ path: key, message: 'unknown setting' });
  const names = Object.keys(input.tables);
  if (names.length > SCHEMA_LIMITS.tables) problems.push({ path: 'tables', message: `at most ${SCHEMA_LIMITS.tables} tables` });
  const tableSet = new Set(names);
  for (const [name, table] of Object.entries(input.tables)) {
    const path = `tables.${name}`;
    if (!isIdentifier(name)) { problems.push({ path, message: 'table names are 1-48 of a-z, 0-9 and _, starting with a letter' }); continue; }
    if (!isObject(table) || !isObject(table.columns)) { problems.push({ path: `${path}.columns`, message: 'must be an object of column name → column' }); continue; }
    for (const key of Object.keys(table)) if (key !== 'columns' && key !== 'rules') problems.push({ path: `${path}.${key}`, message: 'unknown setting' });
    const columns = Object.entries(table.columns);
    if (columns.length > SCHEMA_LIMITS.columns) problems.push({ path: `${path}.columns`, message: `at most ${SCHEMA_LIMITS.columns} columns` });
    for (const [column, spec] of columns) {
      const at = `${path}.columns.${column}`;
      if (!isIdentifier(column)) problems.push({ path: at, message: 'column names are 1-48 of a-z, 0-9 and _, starting with a letter' });
      else if (isSystemColumn(column)) problems.push({ path: at, message: 'id, created_by, created_at and updated_at are set by the server' });
      else if (RESERVED_COLUMNS.has(column)) problems.push({ path: at, message: `${column} is a query parameter of /rest/v1 and cannot name a column` });
      else checkColumn(spec, at, tableSet, problems);
    }
    if (problems.length === 0) checkRules(table as unknown as TableSpec, `${path}.rules`, problems);
  }
  if (problems.length > 0) throw new SchemaInvalid(problems);
  return input as unknown as SchemaDocument;
}

export type { ColumnSpec };

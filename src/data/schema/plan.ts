import { physicalTableName } from '../names.js';
import type { ColumnSpec, SchemaDocument, TableSpec } from './types.js';

// The difference between the tables a project environment has and the schema
// it asks for, as a list of steps a person can read before they run (dry-run).
// A step that loses data is marked and refused unless allowDataLoss is set.

export type PlanStep =
  | { kind: 'create_table'; table: string; physical: string; spec: TableSpec }
  | { kind: 'drop_table'; table: string; physical: string }
  | { kind: 'add_column'; table: string; column: string; spec: ColumnSpec }
  | { kind: 'drop_column'; table: string; column: string; spec: ColumnSpec }
  | { kind: 'retype_column'; table: string; column: string; from: ColumnSpec; spec: ColumnSpec }
  | { kind: 'add_unique'; table: string; column: string }
  | { kind: 'drop_unique'; table: string; column: string }
  | { kind: 'update_definition'; table: string; what: string[] };

export interface Plan {
  steps: PlanStep[];
  /** Steps that lose data (dropped tables or columns, changed types). */
  destructive: PlanStep[];
  /** Changes that cannot be made at all; the plan must not run. */
  problems: string[];
}

export const isDestructive = (s: PlanStep): boolean => s.kind === 'drop_table' || s.kind === 'drop_column' || s.kind === 'retype_column';

export function describeStep(s: PlanStep): string {
  switch (s.kind) {
    case 'create_table': return `create table ${s.table} (${Object.keys(s.spec.columns).join(', ') || 'system columns only'})`;
    case 'drop_table': return `DROP table ${s.table} and all its rows`;
    case 'add_column': return `add column ${s.table}.${s.column} ${s.spec.type}`;
    case 'drop_column': return `DROP column ${s.table}.${s.column} and its values`;
    case 'retype_column': return `CHANGE type of ${s.table}.${s.column} from ${s.from.type} to ${s.spec.type} (its values are dropped)`;
    case 'add_unique': return `add unique index on ${s.table}.${s.column}`;
    case 'drop_unique': return `drop unique index on ${s.table}.${s.column}`;
    case 'update_definition': return `update ${s.table}: ${s.what.join(', ')}`;
  }
}

const storageShape = (c: ColumnSpec) => `${c.type}:${c.type === 'reference' ? `${c.table}:${c.on_delete ?? 'restrict'}` : ''}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Referenced tables first, so a foreign key always points at an existing table. */
function creationOrder(doc: SchemaDocument, problems: string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done' || !doc.tables[name]) return; // a missing table is reported by the validator
    if (state.get(name) === 'visiting') return void problems.push(`tables reference each other in a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const column of Object.values(doc.tables[name]!.columns)) {
      if (column.type === 'reference' && column.table && column.table !== name) visit(column.table, [...path, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(doc.tables)) visit(name, []);
  return order;
}

export function planSchema(projectId: string, environment: string, current: ReadonlyMap<string, TableSpec>, desired: SchemaDocument): Plan {
  const steps: PlanStep[] = [];
  const problems: string[] = [];
  // Drops first (referencing tables before the tables they reference), then creates and alters.
  const dropped = [...current.keys()].filter((name) => !(name in desired.tables));
  for (const name of dropped) {
    for (const [other, spec] of Object.entries(desired.tables)) {
      if (Object.values(spec.columns).some((c) => c.type === 'reference' && c.table === name)) problems.push(`table ${other} still references ${name}, which would be dropped`);
    }
  }
  const dropOrder = dropped.sort((a, b) => (references(current.get(a)!, b) ? -1 : references(current.get(b)!, a) ? 1 : 0));
  for (const name of dropOrder) steps.push({ kind: 'drop_table', table: name, physical: physicalTableName(projectId, environment, name) });

  for (const name of creationOrder(desired, problems)) {
    const want = desired.tables[name]!;
    const have = current.get(name);
    if (!have) {
      steps.push({ kind: 'create_table', table: name, physical: physicalTableName(projectId, environment, name), spec: want });
      continue;
    }
    const settings: string[] = [];
    for (const [column, before] of Object.entries(have.columns)) {
      const after = want.columns[column];
      if (!after) {
        if (before.type === 'reference') problems.push(`${name}.${column} is a reference column and cannot be dropped; drop and recreate the table`);
        steps.push({ kind: 'drop_column', table: name, column, spec: before });
      } else if (storageShape(before) !== storageShape(after)) {
        if (before.type === 'reference') problems.push(`${name}.${column} is a reference column and cannot change type; drop and recreate the table`);
        steps.push({ kind: 'retype_column', table: name, column, from: before, spec: after });
      } else {
        if (!!before.unique !== !!after.unique) steps.push({ kind: after.unique ? 'add_unique' : 'drop_unique', table: name, column });
        for (const key of ['required', 'default', 'max_length', 'read', 'write'] as const) {
          if (!same(before[key], after[key])) settings.push(`${column}.${key}`);
        }
      }
    }
    for (const [column, spec] of Object.entries(want.columns)) {
      if (have.columns[column]) continue;
      if (spec.required && (spec.default === undefined || spec.default === null)) {
        problems.push(`new required column ${name}.${column} needs a default for the rows that already exist`);
      }
      steps.push({ kind: 'add_column', table: name, column, spec });
    }
    if (!same(have.rules, want.rules)) settings.push('rules');
    if (settings.length > 0) steps.push({ kind: 'update_definition', table: name, what: settings });
  }
  return { steps, destructive: steps.filter(isDestructive), problems };
}

function references(spec: TableSpec, table: string): boolean {
  return Object.values(spec.columns).some((c) => c.type === 'reference' && c.table === table);
}

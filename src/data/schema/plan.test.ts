import { describe, expect, it } from 'vitest';
import { describeStep, planSchema } from './plan.js';
import type { TableSpec } from './types.js';

const lists: TableSpec = { columns: { name: { type: 'text' } } };
const todos: TableSpec = { columns: { title: { type: 'text' }, list_id: { type: 'reference', table: 'lists' } } };

describe('schema planner', () => {
  it('creates referenced tables first and marks nothing destructive for additions', () => {
    const plan = planSchema('p', 'dev', new Map(), { tables: { todos, lists } });
    expect(plan.steps.map((s) => `${s.kind}:${s.table}`)).toEqual(['create_table:lists', 'create_table:todos']);
    expect(plan.destructive).toEqual([]);
    expect(plan.problems).toEqual([]);
  });

  it('marks drops and type changes as destructive, and metadata changes as not', () => {
    const current = new Map([['lists', lists], ['todos', todos]]);
    const next: TableSpec = { columns: { title: { type: 'integer' }, list_id: { type: 'reference', table: 'lists' }, done: { type: 'boolean' } }, rules: { select: ['admin'] } };
    const plan = planSchema('p', 'dev', current, { tables: { lists: { columns: { name: { type: 'text', max_length: 10 } } }, todos: next } });
    expect(plan.steps.map(describeStep)).toEqual([
      'update lists: name.max_length',
      'CHANGE type of todos.title from text to integer (its values are dropped)',
      'add column todos.done boolean',
      'update todos: rules',
    ]);
    expect(plan.destructive.map((s) => s.kind)).toEqual(['retype_column']);
  });

  it('lists what cannot be done: cycles, dangling references, required columns without default', () => {
    const a: TableSpec = { columns: { b: { type: 'reference', table: 'b' } } };
    const b: TableSpec = { columns: { a: { type: 'reference', table: 'a' } } };
    expect(planSchema('p', 'dev', new Map(), { tables: { a, b } }).problems.join()).toMatch(/cycle/);
    expect(planSchema('p', 'dev', new Map([['lists', lists], ['todos', todos]]), { tables: { todos } }).problems.join()).toMatch(/references lists/);
    const required = planSchema('p', 'dev', new Map([['lists', lists]]), { tables: { lists: { columns: { ...lists.columns, owner: { type: 'text', required: true } } } } });
    expect(required.problems.join()).toMatch(/needs a default/);
  });
});

import { describe, expect, it } from 'vitest';
import { shapeKey, type ReadShape } from './read-plan.js';

// The plan cache's key is printed by hand (issue 18): two different shapes must never print the
// same, or one caller's read would run with another shape's SQL.
const shape = (over: Partial<ReadShape>): ReadShape => ({
  select: [{ alias: 'title', name: 'title', how: 'all' }], columns: [], order: [], rules: true, where: [],
  limit: 1000, offsetSlot: 2, count: false, stripNulls: false, ...over,
});

describe('read plan keys', () => {
  it('differ for shapes that differ only where a naive print would run them together', () => {
    const shapes: ReadShape[] = [
      shape({}),
      // An alias is client text: quotes, separators and look-alikes of the key's own syntax.
      shape({ select: [{ alias: 'a:title:all,', name: 'title', how: 'all' }] }),
      shape({ select: [{ alias: 'a', name: 'title', how: 'all' }, { alias: 'title', name: 'title', how: 'all' }] }),
      shape({ select: [{ alias: 'a","title', name: 'title', how: 'all' }] }),
      shape({ select: [{ alias: 'title', name: 'title', how: 'self' }] }),
      shape({ count: true }),
      shape({ stripNulls: true }),
      shape({ limit: 12, offsetSlot: 2 }),
      shape({ limit: 1, offsetSlot: 22 }),
      shape({ limit: 1, offsetSlot: 2 }),
      shape({ limit: 12, offsetSlot: 1 }),
      shape({ order: [{ name: 'title', how: 'all', direction: 'asc', nulls: 'last' }] }),
      shape({ order: [{ name: 'title', how: 'all', direction: 'asc', nulls: 'first' }] }),
      shape({ rules: false }),
      shape({ rules: null }),
      shape({ rules: { k: 'own', slot: 0 } }),
      shape({ rules: { k: 'or', items: [{ k: 'own', slot: 0 }, { k: 'cmp', col: 'public', op: '=', slot: 3 }] } }),
      shape({ rules: { k: 'and', items: [{ k: 'own', slot: 0 }, { k: 'cmp', col: 'public', op: '=', slot: 3 }] } }),
      shape({ rules: { k: 'not', item: { k: 'is', col: 'note', not: false } } }),
      shape({ rules: { k: 'is', col: 'note', not: true } }),
      shape({ rules: { k: 'cols', col: 'title', op: '=', other: 'note' } }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'cmp', op: '=', slot: 3 } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: true, form: { f: 'cmp', op: '=', slot: 3 } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'cmp', op: '<>', slot: 3 } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'in', slots: [3, 4] } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'in', slots: [34] } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'like', slot: 3 } }] }),
      shape({ where: [{ k: 'f', col: 'title', how: 'all', neg: false, form: { f: 'glob', slot: 3 } }] }),
      shape({ where: [{ k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'bool', bit: 1 } }] }),
      shape({ where: [{ k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'null' } }] }),
      shape({ where: [{ k: 'or', neg: false, items: [{ k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'null' } }] }] }),
      shape({ where: [{ k: 'and', neg: true, items: [{ k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'null' } }] }] }),
      shape({ where: [{ k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'null' } }, { k: 'f', col: 'done', how: 'all', neg: false, form: { f: 'null' } }] }),
    ];
    const keys = shapes.map(shapeKey);
    expect(new Set(keys).size).toBe(shapes.length);
  });

  it('is the same for the same shape (the column models are the table\'s, not part of the key)', () => {
    expect(shapeKey(shape({ columns: [] }))).toBe(shapeKey(shape({ columns: [{ name: 'title' } as never] })));
  });
});

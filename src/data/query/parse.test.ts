import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { DEFAULT_QUERY_LIMITS } from './ast.js';
import { parseQuery } from './parse.js';

const parse = (query: Record<string, unknown>) => parseQuery(query, DEFAULT_QUERY_LIMITS);
const refused = (query: Record<string, unknown>) => {
  try {
    parse(query);
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError);
    return (error as GatehouseError).code;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
};

describe('PostgREST URL grammar', () => {
  it('parses select with aliases, filters, order, limit and offset', () => {
    const q = parse({ select: 'id,name:title,*', done: 'not.eq.true', title: ['like.a*', 'neq.b'], order: 'title.desc,id', limit: '10', offset: '5' });
    expect(q.select).toEqual([{ kind: 'column', column: 'id', alias: 'id' }, { kind: 'column', column: 'title', alias: 'name' }, { kind: 'star' }]);
    expect(q.where).toEqual([
      { kind: 'filter', column: 'done', op: 'eq', negated: true, value: 'true' },
      { kind: 'filter', column: 'title', op: 'like', negated: false, value: 'a*' },
      { kind: 'filter', column: 'title', op: 'neq', negated: false, value: 'b' },
    ]);
    expect(q.order).toEqual([{ column: 'title', direction: 'desc', nulls: 'first' }, { column: 'id', direction: 'asc', nulls: 'last' }]);
    expect([q.limit, q.offset]).toEqual([10, 5]);
  });

  it('parses in lists with quoted values and nested or/and trees', () => {
    const q = parse({ or: '(title.eq."a,b",and(done.is.true,priority.in.(1,"2)",3)),not.and(a.gt.1,b.lt.2))' });
    expect(q.where).toEqual([{
      kind: 'or', negated: false, items: [
        { kind: 'filter', column: 'title', op: 'eq', negated: false, value: 'a,b' },
        { kind: 'and', negated: false, items: [
          { kind: 'filter', column: 'done', op: 'is', negated: false, value: 'true' },
          { kind: 'filter', column: 'priority', op: 'in', negated: false, value: ['1', '2)', '3'] },
        ] },
        { kind: 'and', negated: true, items: [
          { kind: 'filter', column: 'a', op: 'gt', negated: false, value: '1' },
          { kind: 'filter', column: 'b', op: 'lt', negated: false, value: '2' },
        ] },
      ],
    }]);
  });

  it('parses the columns= of supabase-js inserts', () => {
    expect(parse({ columns: '"title","done"' }).columns).toEqual(['title', 'done']);
  });

  it.each([
    [{ 'title;x': 'eq.1' }], [{ title: 'xx.1' }], [{ title: 'eq' }], [{ select: 'a(b)' }], [{ select: 'a::text' }], [{ order: 'a.up' }],
    [{ limit: '1001' }], [{ limit: 'ten' }], [{ offset: '-1' }], [{ or: 'a.eq.1' }], [{ or: '(a.eq.1' }], [{ or: '()' }], [{ title: 'is.maybe' }],
    [{ title: 'in.1,2' }], [{ on_conflict: 'id' }], [{ limit: ['1', '2'] }], [{ title: 'cs.{a}' }],
  ])('refuses %j with data_query_invalid', (query) => {
    expect(refused(query)).toBe('data_query_invalid');
  });

  it('bounds in-lists, filter count and or nesting', () => {
    expect(refused({ a: `in.(${Array.from({ length: 101 }, (_, i) => i).join(',')})` })).toBe('data_query_invalid');
    expect(parse({ a: `in.(${Array.from({ length: 100 }, (_, i) => i).join(',')})` }).where).toHaveLength(1);
    expect(refused({ a: Array.from({ length: 51 }, () => 'eq.1') })).toBe('data_query_invalid');
    expect(refused({ or: '(or(or(or(or(a.eq.1)))))' })).toBe('data_query_invalid');
    expect(parse({ or: '(or(or(or(a.eq.1))))' }).where).toHaveLength(1);
  });
});

describe('select= and order= parsed once per text', () => {
  it('gives the same items again, and checks the count against the limits of each request', () => {
    const first = parse({ select: 'id,name:title', order: 'title.desc' });
    const again = parse({ select: 'id,name:title', order: 'title.desc' });
    expect(again.select).toBe(first.select);
    expect(again.order).toBe(first.order);
    expect(Object.isFrozen(again.select[1])).toBe(true);
    // Parsed (and kept) under the default limits; a service with tighter ones still refuses it.
    const tight = { ...DEFAULT_QUERY_LIMITS, maxSelect: 1, maxOrder: 1 };
    expect(() => parseQuery({ select: 'id,name:title' }, tight)).toThrow(/more than 1 columns/);
    expect(() => parseQuery({ order: 'title.desc,id' }, tight)).toThrow(/more than 1 columns/);
  });

  it('refuses a bad text every time it comes (nothing is kept of it)', () => {
    expect(refused({ select: 'title->x' })).toBe('data_query_invalid');
    expect(refused({ select: 'title->x' })).toBe('data_query_invalid');
    expect(refused({ order: 'title.sideways' })).toBe('data_query_invalid');
    expect(refused({ order: 'title.sideways' })).toBe('data_query_invalid');
  });
});

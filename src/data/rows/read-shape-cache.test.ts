// readShape keeps the resolved select and order lists per table model, caller access class and
// parsed list (issue 18). Kept wrongly, one caller would read with another's column access, or a
// schema change would not apply: each case asks as the more privileged caller first.
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { DEFAULT_QUERY_LIMITS } from '../query/ast.js';
import { parseQuery } from '../query/parse.js';
import type { AuthContext } from '../rules/context.js';
import { createResolver } from '../rules/resolver.js';
import { buildTableModel } from '../schema/model.js';
import type { TableSpec } from '../schema/types.js';
import { createReadPlans, readShape, shapeKey, type PlanContext } from './read-plan.js';

const SPEC: TableSpec = {
  columns: { title: { type: 'text' }, note: { type: 'text', read: ['self', 'admin'] }, secret: { type: 'text', read: ['admin'] } },
  rules: { select: ['admin', 'self', 'title == "open"'] },
};
const admin: AuthContext = { group: 'admin', uid: 'usr_admin', role: null, claims: {} };
const user: AuthContext = { group: 'user', uid: 'usr_a', role: null, claims: {} };
const otherUser: AuthContext = { group: 'user', uid: 'usr_b', role: null, claims: { plan: 'pro' } };
const guest: AuthContext = { group: 'guest', uid: null, role: null, claims: {} };

const database = new SQLite(':memory:');
const ctx: PlanContext = { db: new Kysely<any>({ dialect: new SqliteDialect({ database }) }), capabilities: { ilike: false, concurrentWriters: false, json: 'json1', jsonRows: true } };
afterAll(() => database.close());

const query = (q: Record<string, string>) => parseQuery(q, DEFAULT_QUERY_LIMITS);
const shapeOf = (table: ReturnType<typeof buildTableModel>, auth: AuthContext, q: ReturnType<typeof query>) =>
  readShape(ctx, createResolver(table), { table, auth, query: q, count: false, limit: 10, offset: 0, stripNulls: false }).shape;
const access = (shape: ReturnType<typeof shapeOf>) => shape.select.map((s) => `${s.alias}:${s.how}`);

describe('resolved select and order lists, kept per table, caller class and parsed list', () => {
  const table = buildTableModel('notes', 'd_notes', SPEC);

  it('another class of caller asking the same select gets its own access (admin, then a user, then a guest)', () => {
    const q = query({ select: 'title,note', order: 'note.asc' });
    expect(access(shapeOf(table, admin, q))).toEqual(['title:all', 'note:all']);
    const asUser = shapeOf(table, user, q);
    expect(access(asUser)).toEqual(['title:all', 'note:self']);
    expect(asUser.order.map((o) => o.how)).toEqual(['self']);
    // A guest may not read note: the 403 every time, never a kept list.
    for (let i = 0; i < 2; i++) {
      expect(() => shapeOf(table, guest, q)).toThrow(GatehouseError);
      try {
        shapeOf(table, guest, q);
      } catch (error) {
        expect((error as GatehouseError).code).toBe('data_column_forbidden');
      }
    }
    expect(shapeKey(shapeOf(table, admin, q))).not.toBe(shapeKey(asUser));
  });

  it('select=* (and no select) is each class\'s readable columns', () => {
    for (const q of [query({ select: '*' }), query({})]) {
      expect(access(shapeOf(table, admin, q)).slice(4)).toEqual(['title:all', 'note:all', 'secret:all']);
      expect(access(shapeOf(table, user, q)).slice(4)).toEqual(['title:all', 'note:self']);
      expect(access(shapeOf(table, guest, q)).slice(4)).toEqual(['title:all']);
    }
  });

  it('two users of one class share the list (the same object), whatever their ids and claims', () => {
    const q = query({ select: 'title,note' });
    expect(shapeOf(table, otherUser, q).select).toBe(shapeOf(table, user, q).select);
  });

  it('a schema change (a new table model) resolves again: a column made readable to all, or unreadable', () => {
    const q = query({ select: 'title,note' });
    expect(access(shapeOf(table, user, q))).toEqual(['title:all', 'note:self']);
    const opened = buildTableModel('notes', 'd_notes', { ...SPEC, columns: { ...SPEC.columns, note: { type: 'text' } } });
    expect(access(shapeOf(opened, user, q))).toEqual(['title:all', 'note:all']);
    const closed = buildTableModel('notes', 'd_notes', { ...SPEC, columns: { ...SPEC.columns, note: { type: 'text', read: ['admin'] } } });
    expect(() => shapeOf(closed, user, q)).toThrow(GatehouseError);
  });

  it('lists that are not the parser\'s shared (frozen) ones are resolved per request, not kept', () => {
    const q = { ...query({}), select: [{ kind: 'column' as const, column: 'title', alias: 'title' }] };
    expect(shapeOf(table, user, q).select).not.toBe(shapeOf(table, user, q).select);
  });

  it('plans follow: an admin\'s plan is not a user\'s, and each is reused for its own class', () => {
    const plans = createReadPlans();
    const q = query({ select: 'title,note' });
    const input = (auth: AuthContext) => ({ table, auth, query: q, count: false, limit: 10, offset: 0, stripNulls: false });
    const forAdmin = plans.plan(ctx, input(admin)).plan;
    const forUser = plans.plan(ctx, input(user)).plan;
    expect(forUser).not.toBe(forAdmin);
    expect(forUser.rows!.sql).toContain('case when');
    expect(forAdmin.rows!.sql).not.toContain('case when');
    expect(plans.plan(ctx, input(otherUser)).plan).toBe(forUser);
    expect(plans.plan(ctx, input(admin)).plan).toBe(forAdmin);
  });
});

// Rules compile to parameterised predicates: values are bound, never in the
// SQL text; the caller's values fold to constants with SQL's three-valued logic.
import { Kysely, PostgresDialect, SqliteDialect, type Expression, type SqlBool } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTableModel } from '../schema/model.js';
import { validateSchema, SchemaInvalid } from '../schema/validate.js';
import { compileRules, toExpression } from './compile.js';
import type { AuthContext } from './context.js';
import { parseRule, RuleSyntaxError } from './expression.js';
import { createResolver } from './resolver.js';

const spec = {
  columns: { published: { type: 'boolean' as const }, org_id: { type: 'integer' as const }, title: { type: 'text' as const } },
  rules: {
    select: ['admin', 'auth.uid == created_by || published == true'],
    insert: ['auth.role == "editor"'],
    update: ['auth.claims.org_id == org_id'],
    delete: ['!(auth.uid == created_by)'],
  },
};
const table = buildTableModel('posts', 'd_test', spec);
const resolver = createResolver(table);
const guest: AuthContext = { group: 'guest', uid: null, role: null, claims: {} };
const alice: AuthContext = { group: 'user', uid: "usr_a'; drop table x; --", role: 'editor', claims: { org_id: 7 } };
const admin: AuthContext = { group: 'admin', uid: null, role: null, claims: {} };

// Compile-only dialects: nothing connects.
const dialects = {
  postgres: new Kysely<any>({ dialect: new PostgresDialect({ pool: {} as never }) }),
  sqlite: new Kysely<any>({ dialect: new SqliteDialect({ database: {} as never }) }),
};

function compile(db: Kysely<any>, auth: AuthContext, op: 'select' | 'insert' | 'update' | 'delete') {
  let result: ReturnType<typeof compileRules> = null;
  const query = db.selectFrom('d_test').selectAll().where((eb) => {
    result = compileRules(eb, resolver, auth, table.rules[op]);
    return toExpression(result) as Expression<SqlBool>;
  }).compile();
  return { result, sql: query.sql, parameters: query.parameters };
}

describe.each(Object.entries(dialects))('rule compiler (%s)', (_name, db) => {
  it('binds the caller\'s values as parameters, never in the SQL text', () => {
    const { sql, parameters } = compile(db, alice, 'select');
    expect(sql).not.toContain('drop table');
    expect(parameters).toEqual([alice.uid, 1]);
    expect(sql).toMatch(/"created_by" = [$?]1?/);
  });

  it('a group that matches makes the rule constant true; admin sees all', () => {
    expect(compile(db, admin, 'select').result).toBe(true);
  });

  it('comparisons without a column fold: auth.role == "editor"', () => {
    expect(compile(db, alice, 'insert').result).toBe(true);
    expect(compile(db, guest, 'insert').result).toBeNull(); // a guest has no role: unknown, which denies
    expect(compile(db, { ...alice, role: 'viewer' }, 'insert').result).toBe(false);
  });

  it('a guest\'s auth.uid is unknown and never allows, even under !', () => {
    expect(compile(db, guest, 'delete').result).toBeNull();
    const { sql, parameters } = compile(db, guest, 'select');
    expect(parameters).toEqual([1]);
    expect(sql).toContain('"published" =');
  });

  it('claims compare with their column type; a missing claim is unknown', () => {
    expect(compile(db, alice, 'update').parameters).toEqual([7]);
    expect(compile(db, { ...alice, claims: { org_id: { nested: 1 } } }, 'update').result).toBeNull();
    expect(compile(db, { ...alice, claims: { org_id: 'abc' } }, 'update').result).toBeNull();
  });
});

describe('rule syntax', () => {
  it.each(['a ==', 'a = 1', 'a == 1 &&', 'auth.password == 1', 'a.b == 1', '"x" == "y" extra', 'f(a) == 1', 'a == 1; drop', '((a == 1)'])('refuses %s', (source) => {
    expect(() => parseRule(source)).toThrow(RuleSyntaxError);
  });

  it('a schema rule naming an unknown or json column is refused', () => {
    expect(() => validateSchema({ tables: { t: { columns: { j: { type: 'json' } }, rules: { select: ['j == 1'] } } } })).toThrow(SchemaInvalid);
    expect(() => validateSchema({ tables: { t: { columns: {}, rules: { select: ['nope == 1'] } } } })).toThrow(/unknown column nope/);
  });
});

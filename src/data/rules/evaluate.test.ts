// The policy tester must tell the truth: its JS evaluation of a rule agrees
// with the SQL the same rule compiles to, row by row, for every kind of caller.
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStep } from '../schema/migrate.js';
import { buildTableModel, parseRuleEntry } from '../schema/model.js';
import { compileRules, isConstant, toExpression } from './compile.js';
import type { AuthContext } from './context.js';
import { evaluateEntry } from './evaluate.js';
import { createResolver } from './resolver.js';

const spec = { columns: { published: { type: 'boolean' as const }, org_id: { type: 'integer' as const }, title: { type: 'text' as const }, due: { type: 'timestamp' as const } } };
const rows = [
  { id: 'r1', created_by: 'usr_a', published: true, org_id: 7, title: 'b', due: '2026-01-01T00:00:00.000Z' },
  { id: 'r2', created_by: 'usr_b', published: false, org_id: 8, title: 'a', due: null },
  { id: 'r3', created_by: null, published: null, org_id: null, title: null, due: '2025-01-01T00:00:00.000Z' },
  { id: 'r4', created_by: 'usr_a', published: false, org_id: 7, title: 'c', due: null },
];
const callers: AuthContext[] = [
  { group: 'guest', uid: null, role: null, claims: {} },
  { group: 'user', uid: 'usr_a', role: 'editor', claims: { org_id: 7 } },
  { group: 'user', uid: 'usr_b', role: 'viewer', claims: { org_id: '8' } },
  { group: 'admin', uid: null, role: null, claims: {} },
];
const rules = [
  'self', 'admin', 'user', 'guest',
  'auth.uid == created_by || published == true',
  '!(auth.uid == created_by)',
  'auth.role == "editor" && org_id >= 7',
  'auth.claims.org_id == org_id',
  'published != true',
  'title == null || title < "b"',
  'due > "2025-06-01T00:00:00Z"',
  '!(published == true || org_id == 8)',
  'auth.group == "admin" || (auth.uid != null && !(created_by == auth.uid))',
  // Mismatched types (review): column vs column of another type, and literals that do not fit the column.
  'title != org_id', 'title == org_id', '!(org_id < title)', 'title == 5', 'title != 5', 'org_id == "7"', 'published != 1', '!(auth.uid == 5)', 'auth.claims.org_id != "7"',
];

describe('policy tester agrees with the compiled SQL', () => {
  const table = buildTableModel('t', 't_eval', spec);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
  beforeAll(async () => {
    await runStep({ db, projectId: 'p', environment: 'dev', desired: { tables: {} } }, { kind: 'create_table', table: 't', physical: 't_eval', spec });
    // runStep names the table from the project; create our rows in the physical table it made.
    const physical = (await db.introspection.getTables()).find((t) => t.name.startsWith('d_'))!.name;
    (table as { physical: string }).physical = physical;
    await db.insertInto(physical).values(rows.map((r) => ({
      ...r, published: r.published === null ? null : r.published ? 1 : 0, created_at: 'x', updated_at: 'x',
    }))).execute();
  });
  afterAll(() => db.destroy());

  it.each(rules)('%s', async (source) => {
    const entry = parseRuleEntry(source);
    for (const auth of callers) {
      let compiled: ReturnType<typeof compileRules> = null;
      const selected = await db.selectFrom(table.physical).select('id').where((eb) => {
        compiled = compileRules(eb, createResolver(table), auth, [entry]);
        return toExpression(compiled);
      }).execute();
      const bySql = selected.map((r) => r.id).sort();
      const byJs = rows.filter((row) => evaluateEntry(table, row, auth, entry) === true).map((r) => r.id).sort();
      expect(byJs, `${source} as ${auth.group}/${auth.uid}`).toEqual(bySql);
      if (isConstant(compiled)) expect(evaluateEntry(table, null, auth, entry)).toBe(compiled);
    }
  });
});

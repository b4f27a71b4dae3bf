import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { InlineLimitPlugin } from './inline-limit.js';

// A bound LIMIT makes SQLite compile a cached statement again on every run (inline-limit.ts).
describe('InlineLimitPlugin', () => {
  const database = new SQLite(':memory:');
  const db = new Kysely<{ t: { n: number } }>({ dialect: new SqliteDialect({ database }), plugins: [new InlineLimitPlugin()] });
  afterAll(() => db.destroy());

  it('writes a non-negative integer limit into the SQL and keeps the offset bound', async () => {
    await sql`create table t (n integer)`.execute(db);
    await db.insertInto('t').values([1, 2, 3, 4, 5].map((n) => ({ n }))).execute();
    const query = db.selectFrom('t').select('n').where('n', '>', 1).orderBy('n').limit(2).offset(1);
    const compiled = query.compile();
    expect(compiled.sql).toBe('select "n" from "t" where "n" > ? order by "n" limit 2 offset ?');
    expect(compiled.parameters).toEqual([1, 1]);
    expect((await query.execute()).map((r) => r.n)).toEqual([3, 4]);
    expect(db.selectFrom('t').select('n').limit(0).compile().sql).toMatch(/limit 0$/);
  });

  it('leaves anything but a non-negative safe integer as a bound parameter', () => {
    for (const value of [-1, 1.5, 2 ** 53, Number.NaN, '1; drop table t' as unknown as number]) {
      const compiled = db.selectFrom('t').select('n').limit(value).compile();
      expect(compiled.sql).toBe('select "n" from "t" limit ?');
      expect(compiled.parameters).toEqual([value]);
    }
  });
});

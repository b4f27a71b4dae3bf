// The feed decides in memory (rules/evaluate.ts on the row) what the Data API decides in SQL.
// For a set of rules, rows written through the Data API reach each subscriber exactly when its
// own read returns them, with exactly the columns and values that read returns — on INSERT and,
// for the row as it was, on DELETE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from '../data/fixtures.js';
import type { Caller } from '../../src/access/index.js';
import type { GatehouseError } from '../../src/errors/index.js';
import { callerFor, collect, rest, type Collector } from './setup.js';

type Row = Record<string, unknown>;

// The policy tester's rule set (src/data/rules/evaluate.test.ts), on a table of the same columns.
const RULES = [
  'self', 'user', 'guest',
  'auth.uid == created_by || published == true',
  '!(auth.uid == created_by)',
  'auth.role == "editor" && org_id >= 7',
  'auth.claims.org_id == org_id',
  'published != true',
  'title == null || title < "b"',
  'due > "2025-06-01T00:00:00Z"',
  '!(published == true || org_id == 8)',
  'auth.group == "admin" || (auth.uid != null && !(created_by == auth.uid))',
  'title != org_id', 'org_id == "7"', 'published != 1',
];

const COLUMNS = {
  published: { type: 'boolean' },
  org_id: { type: 'integer' },
  title: { type: 'text' },
  due: { type: 'timestamp' },
  /** Read by its author and admins only: NULL to other readers of the row. */
  secret: { type: 'text', read: ['self', 'admin'] },
  /** Never read by guests. */
  level: { type: 'integer', read: ['user', 'admin'] },
};

const ROWS: Row[] = [
  { published: true, org_id: 7, title: 'b', due: '2026-01-01T00:00:00.000Z', secret: 's1', level: 1 },
  { published: false, org_id: 8, title: 'a', due: null, secret: 's2', level: 2 },
  { published: null, org_id: null, title: null, due: '2025-01-01T00:00:00.000Z', secret: null, level: null },
  { published: false, org_id: 7, title: 'c', due: null, secret: 's4', level: 4 },
];

// Each rule table also lets admins select, so an admin user can write every row; for the other
// callers `rule || admin` is the rule itself.
const schema = {
  tables: Object.fromEntries(RULES.map((rule, i) => [`r${i}`, {
    columns: COLUMNS,
    rules: { select: [rule, 'admin'], insert: ['admin', 'user'], update: ['admin'], delete: ['admin'] },
  }])),
};

for (const engine of engines()) {
  describe(`in-memory rule checks agree with the Data API's SQL (${engine})`, () => {
    let gh: TestApp;
    let writers: Array<{ name: string; token: string }>;
    const readers: Array<{ name: string; user: TestUser | null; caller: Caller }> = [];

    beforeAll(async () => {
      gh = await startTestApp(engine, { env: generousLimitsEnv() });
      await applySchema(gh, gh.secretKey, schema);
      const alice = await createTestUser(gh);
      const bob = await createTestUser(gh);
      const admin = await createTestUser(gh, { admin: true });
      writers = [{ name: 'admin', token: admin.accessToken }, { name: 'alice', token: alice.accessToken }, { name: 'bob', token: bob.accessToken }];
      for (const [name, user] of [['guest', null], ['alice', alice], ['bob', bob], ['admin', admin]] as const) {
        readers.push({ name, user, caller: await callerFor(gh, gh.publishableKey, user?.accessToken) });
      }
    }, 60_000);
    afterAll(() => gh?.close());

    const byId = (rows: Row[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));

    it.each(RULES.map((rule, i) => [rule, i] as const))('%s', async (rule, i) => {
      const table = `r${i}`;
      // null: refused, as a table that does not exist (no rule could ever let this reader select a row).
      const subs: Array<Collector | null> = [];
      for (const reader of readers) {
        subs.push(await collect(gh, reader.caller, { event: '*', table }).catch((error: GatehouseError) => {
          expect(error.code).toBe('data_table_unknown');
          return null;
        }));
      }
      try {
        // Every row by every writer the rules let write it (the insert must stay visible to its writer).
        let written = 0;
        for (const writer of writers) {
          for (const row of ROWS) {
            const res = await rest(gh, 'POST', `/rest/v1/${table}`, { apikey: gh.publishableKey, token: writer.token }, row);
            expect([201, 403], JSON.stringify(res.body)).toContain(res.status);
            if (res.status === 201) written++;
          }
        }
        expect(written).toBeGreaterThanOrEqual(ROWS.length); // at least the admin's
        // What each reader's own read returns now.
        const reads: Row[][] = [];
        for (const reader of readers) {
          const res = await rest(gh, 'GET', `/rest/v1/${table}?select=*`, { apikey: gh.publishableKey, ...(reader.user ? { token: reader.user.accessToken } : {}) });
          expect(res.status).toBe(200);
          reads.push(res.body as Row[]);
        }
        // Delete everything as the secret key; then wait until the admin reader has heard every change.
        const del = await rest(gh, 'DELETE', `/rest/v1/${table}?id=not.is.null`, { apikey: gh.secretKey });
        expect(del.status).toBe(200);
        const adminIndex = readers.findIndex((r) => r.name === 'admin');
        await subs[adminIndex]!.waitFor(written * 2);
        await new Promise((r) => setImmediate(r));

        readers.forEach((reader, k) => {
          if (subs[k] === null) {
            expect(reads[k], `${rule}: ${reader.name} was refused, so reads nothing`).toEqual([]);
            return;
          }
          const events = subs[k]!.events;
          const inserted = events.filter((e) => e.type === 'INSERT').map((e) => e.record);
          const deleted = events.filter((e) => e.type === 'DELETE').map((e) => e.old_record);
          expect(byId(inserted), `${rule}: INSERT events of ${reader.name}`).toEqual(byId(reads[k]!));
          expect(byId(deleted), `${rule}: DELETE events of ${reader.name}`).toEqual(byId(reads[k]!));
          expect(events.every((e) => e.type !== 'UPDATE')).toBe(true);
        });
      } finally {
        for (const s of subs) s?.unsubscribe();
      }
    });
  });
}

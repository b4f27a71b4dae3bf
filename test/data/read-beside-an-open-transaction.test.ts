// On SQLite a read runs at once, without Kysely's connection lock, only when no transaction is open
// on the one connection (issue 18): else it would run inside another request's transaction and see
// rows that are not committed, and may never be. A read that comes while a write transaction is
// open must wait for it, and never answer with what it rolled back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from './fixtures.js';

const SCHEMA = { tables: { notes: { columns: { title: { type: 'text' } }, rules: { select: ['user'], insert: ['user'], update: ['self'], delete: ['self'] } } } };

describe.each(engines())('a read beside an open write transaction (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;

  const read = async () => {
    const res = await gh.app.inject({ url: '/rest/v1/notes?select=title&order=title.asc', headers: { apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` } });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as Array<{ title: string }>).map((r) => r.title);
  };

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey, SCHEMA);
    alice = await createTestUser(gh);
    const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/notes', headers: { apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` }, payload: { title: 'committed' } });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(() => gh?.close());

  it('never sees the rows of a transaction that rolls back, nor before it ends', async () => {
    const physical = (await gh.deps.data.schema.tables(gh.project.id, 'dev')).get('notes')!.physical;
    const db = gh.deps.storage.db as unknown as import('kysely').Kysely<any>;
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const now = new Date().toISOString();
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto(physical).values({ id: crypto.randomUUID(), created_by: alice.id, created_at: now, updated_at: now, title: 'uncommitted' }).execute();
      inserted();
      await finishing;
      throw new Error('rolled back');
    }).catch((error: Error) => error.message);
    await insertedYet;
    // Asked while the row is written but not committed: on SQLite this read waits for the transaction.
    const during = read();
    await new Promise((resolve) => setTimeout(resolve, 50));
    finish();
    expect(await transaction).toBe('rolled back');
    expect(await during).toEqual(['committed']);
    expect(await read()).toEqual(['committed']);
  });
});

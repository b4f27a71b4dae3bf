// The read fast path (issue 18) caches a read's SQL per shape. A plan shared by callers it must
// not be shared by — another group, a caller the rules treat otherwise, an older rule or schema —
// would answer one caller with another's rows. Each case below primes the cache with the most
// privileged caller first, then asks as one who must see less.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv, TODO_SCHEMA } from './fixtures.js';

type Row = Record<string, unknown>;

describe.each(engines())('read plans (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let ids: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic', string>;

  const as = (who: 'secret' | 'guest' | TestUser) =>
    who === 'secret' ? { apikey: gh.secretKey }
      : who === 'guest' ? { apikey: gh.publishableKey }
        : { apikey: gh.publishableKey, authorization: `Bearer ${who.accessToken}` };

  async function read(who: 'secret' | 'guest' | TestUser, query: string): Promise<Row[]> {
    const res = await gh.app.inject({ url: `/rest/v1/todos?${query}`, headers: as(who) });
    expect(res.statusCode, res.body).toBe(200);
    // The body is exactly what JSON.stringify makes of the rows (the serialiser builds the string itself).
    expect(res.body).toBe(JSON.stringify(JSON.parse(res.body)));
    return res.json() as Row[];
  }
  const titles = (rows: Row[]) => rows.map((r) => r.title).sort();

  async function insert(who: TestUser, title: string, isPublic: boolean): Promise<string> {
    const res = await gh.app.inject({
      method: 'POST', url: '/rest/v1/todos?select=id', headers: { ...as(who), prefer: 'return=representation' },
      payload: { title, public: isPublic, note: `${title} note`, done: isPublic },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as Row[])[0]!.id as string;
  }

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey);
    [alice, bob] = await Promise.all([createTestUser(gh), createTestUser(gh)]);
    ids = {
      alicePrivate: await insert(alice, 'a-private', false),
      alicePublic: await insert(alice, 'a-public', true),
      bobPrivate: await insert(bob, 'b-private', false),
      bobPublic: await insert(bob, 'b-public', true),
    };
  });
  afterAll(() => gh?.close());

  it('an admin, a user and a guest asking the same URL each get their own rows and columns', async () => {
    const url = 'select=title,note&order=title.asc';
    expect(await read('secret', url)).toEqual([
      { title: 'a-private', note: 'a-private note' }, { title: 'a-public', note: 'a-public note' },
      { title: 'b-private', note: 'b-private note' }, { title: 'b-public', note: 'b-public note' },
    ]);
    // Alice: her rows and Bob's public one, Bob's note masked (note is read: self, admin).
    expect(await read(alice, url)).toEqual([
      { title: 'a-private', note: 'a-private note' }, { title: 'a-public', note: 'a-public note' }, { title: 'b-public', note: null },
    ]);
    // A guest may not read note at all: 403, not a plan made for someone who may.
    const guest = await gh.app.inject({ url: `/rest/v1/todos?${url}`, headers: as('guest') });
    expect(guest.statusCode).toBe(403);
    expect(titles(await read('guest', 'select=title'))).toEqual(['a-public', 'b-public']);
    expect(titles(await read('secret', 'select=title'))).toEqual(['a-private', 'a-public', 'b-private', 'b-public']);
  });

  it('two users of one group share a plan, each with their own id and filter values bound', async () => {
    const url = 'select=title,note&order=title.asc';
    await read(alice, url);
    const before = gh.deps.data.readPlans.size;
    expect(await read(bob, url)).toEqual([
      { title: 'a-public', note: null }, { title: 'b-private', note: 'b-private note' }, { title: 'b-public', note: 'b-public note' },
    ]);
    expect(gh.deps.data.readPlans.size).toBe(before);
    // Same shape, other values: each answer its own row, and a foreign private row stays hidden.
    expect(titles(await read(alice, `select=title&id=eq.${ids.alicePrivate}`))).toEqual(['a-private']);
    expect(titles(await read(alice, `select=title&id=eq.${ids.bobPublic}`))).toEqual(['b-public']);
    expect(await read(alice, `select=title&id=eq.${ids.bobPrivate}`)).toEqual([]);
    expect(titles(await read(bob, `select=title&id=eq.${ids.bobPrivate}`))).toEqual(['b-private']);
    expect(titles(await read(alice, 'select=title&done=is.true'))).toEqual(['a-public', 'b-public']);
    expect(titles(await read(alice, 'select=title&limit=1&order=title.desc'))).toEqual(['b-public']);
    expect(titles(await read(alice, 'select=title&limit=2&offset=1&order=title.desc'))).toEqual(['a-private', 'a-public']);
  });

  it('another project environment with the same schema never reads through this one\'s plan (its own table)', async () => {
    const other = await gh.createProject('plans-other');
    await applySchema(gh, other.secretKey);
    const put = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: { apikey: other.secretKey }, payload: { title: 'other-project row' } });
    expect(put.statusCode, put.body).toBe(201);
    expect(titles(await read('secret', 'select=title&order=title.asc'))).toEqual(['a-private', 'a-public', 'b-private', 'b-public']);
    const res = await gh.app.inject({ url: '/rest/v1/todos?select=title&order=title.asc', headers: { apikey: other.secretKey } });
    expect(res.json()).toEqual([{ title: 'other-project row' }]);
  });

  it('a rule change applies to the next read: no plan of the old rules is reused', async () => {
    const url = 'select=title&order=title.asc';
    expect(titles(await read(alice, url))).toEqual(['a-private', 'a-public', 'b-public']);
    const adminOnly = structuredClone(TODO_SCHEMA);
    adminOnly.tables.todos.rules.select = ['admin'];
    await applySchema(gh, gh.secretKey, adminOnly);
    expect(await read(alice, url)).toEqual([]);
    const publicOnly = structuredClone(TODO_SCHEMA);
    publicOnly.tables.todos.rules.select = ['public == true'];
    await applySchema(gh, gh.secretKey, publicOnly);
    expect(titles(await read(alice, url))).toEqual(['a-public', 'b-public']);
    await applySchema(gh, gh.secretKey);
    expect(titles(await read(alice, url))).toEqual(['a-private', 'a-public', 'b-public']);
  });

  it('a column-rule or column change applies to the next read of select=*', async () => {
    const keys = async () => Object.keys((await read(alice, `select=*&id=eq.${ids.alicePrivate}`))[0]!).sort();
    expect(await keys()).toContain('note');
    const noteHidden = structuredClone(TODO_SCHEMA) as { tables: { todos: { columns: Record<string, Record<string, unknown>> } } };
    noteHidden.tables.todos.columns.note!.read = ['admin'];
    noteHidden.tables.todos.columns.extra = { type: 'text' };
    await applySchema(gh, gh.secretKey, noteHidden);
    const after = await keys();
    expect(after).not.toContain('note');
    expect(after).toContain('extra');
    await applySchema(gh, gh.secretKey, TODO_SCHEMA, { allow_data_loss: true });
    expect(await keys()).not.toContain('extra');
  });

  it('a column retyped under its own name is read with its new type through the same SQL text', async () => {
    // Guards the statement caches: a statement kept prepared across the change (SQLite's cache by
    // text; on PostgreSQL a named statement, which was measured and not adopted) must not answer
    // with the old type, nor fail ("cached plan must not change result type").
    const url = 'select=title,priority&order=title.asc';
    const priorities = async () => (await read('secret', url)).map((r) => r.priority);
    const patch = (value: unknown) => gh.app.inject({
      method: 'PATCH', url: `/rest/v1/todos?id=eq.${ids.alicePublic}`, headers: as('secret'), payload: { priority: value },
    });
    expect((await patch(3)).statusCode).toBe(204);
    // Several reads, so that more than one pooled connection has the statement prepared.
    for (let i = 0; i < 5; i++) expect(await priorities()).toEqual([null, 3, null, null]);
    const retyped = structuredClone(TODO_SCHEMA) as { tables: { todos: { columns: Record<string, Record<string, unknown>> } } };
    retyped.tables.todos.columns.priority = { type: 'text', read: ['admin', 'user', 'guest'], write: ['admin'] };
    await applySchema(gh, gh.secretKey, retyped, { allow_data_loss: true });
    expect((await patch('high')).statusCode).toBe(204);
    for (let i = 0; i < 5; i++) expect(await priorities()).toEqual([null, 'high', null, null]);
    await applySchema(gh, gh.secretKey, TODO_SCHEMA, { allow_data_loss: true });
    for (let i = 0; i < 5; i++) expect(await priorities()).toEqual([null, null, null, null]);
  });
});

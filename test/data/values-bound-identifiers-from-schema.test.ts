// Injection attempts in values, identifiers, select, order and or=(…), and
// other bad input: always a PostgREST-shaped 4xx (or a literal match), never
// a 500, never another caller's data, and nothing changed afterwards.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { generousLimitsEnv, applySchema } from './fixtures.js';

describe.each(engines())('data API injection and bad input (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  const as = (who: 'alice' | 'bob' | 'guest') => ({
    apikey: gh.publishableKey,
    ...(who === 'guest' ? {} : { authorization: `Bearer ${(who === 'alice' ? alice : bob).accessToken}` }),
  });
  const get = (url: string, who: 'alice' | 'bob' | 'guest' = 'alice', headers: Record<string, string> = {}) =>
    gh.app.inject({ method: 'GET', url, headers: { ...as(who), ...headers } });

  /** Everything, read with the secret key: the ground truth for "nothing happened". */
  async function snapshot() {
    const todos = await gh.app.inject({ url: '/rest/v1/todos?select=id,title,note,done&order=title', headers: { apikey: gh.secretKey } });
    const keys = await gh.deps.storage.db.selectFrom('api_keys').select((e) => e.fn.countAll().as('n')).executeTakeFirst();
    return { todos: todos.json(), keys: Number(keys?.n) };
  }

  function expectPgrstError(res: { statusCode: number; json(): any; body: string }, status: number, code: string) {
    expect(res.statusCode, res.body).toBe(status);
    const body = res.json();
    expect(body.code).toBe(code);
    expect(typeof body.message).toBe('string');
    expect(body).toHaveProperty('details');
    expect(body).toHaveProperty('hint');
    expect(res.body).not.toMatch(/d_[0-9a-f]{24}|SQLITE|syntax error at|stack/i);
  }

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey);
    [alice, bob] = await Promise.all([createTestUser(gh), createTestUser(gh)]);
  });
  afterAll(async () => gh?.close());
  beforeEach(async () => {
    await gh.app.inject({ method: 'DELETE', url: '/rest/v1/todos', headers: { apikey: gh.secretKey } });
    for (const [who, title, note] of [['alice', 'a-private', 'alice secret'], ['bob', 'b-private', 'bob secret']] as const) {
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as(who), payload: { title, note } });
      expect(res.statusCode).toBe(201);
    }
  });

  describe('values are bound, never spliced', () => {
    const attacks = ["x' OR '1'='1", "x'); DROP TABLE api_keys; --", 'x" OR "1"="1', "b-private' --", '%', "*' OR 1=1 --", '\\', "'||(select 1)||'"];
    it.each(attacks)('eq.%s matches literally and changes nothing', async (attack) => {
      const before = await snapshot();
      for (const op of ['eq', 'neq', 'like', 'ilike', 'gt']) {
        const res = await get(`/rest/v1/todos?select=title&title=${op}.${encodeURIComponent(attack)}`);
        expect(res.statusCode, res.body).toBe(200);
        // Only alice's own row can ever come back, whatever the operator.
        for (const row of res.json()) expect(row.title).toBe('a-private');
      }
      const inList = await get(`/rest/v1/todos?title=in.(${encodeURIComponent(`"${attack.replace(/["\\]/g, '\\$&')}"`)},b-private)`);
      expect(inList.statusCode, inList.body).toBe(200);
      expect(inList.json()).toEqual([]);
      expect(await snapshot()).toEqual(before);
    });

    it('a hostile string in a body is stored as text', async () => {
      const title = "'); DELETE FROM api_keys; --";
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos?select=title', headers: { ...as('alice'), prefer: 'return=representation' }, payload: { title } });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual([{ title }]);
      const back = await get(`/rest/v1/todos?select=title&title=eq.${encodeURIComponent(title)}`);
      expect(back.json()).toEqual([{ title }]);
      expect((await snapshot()).keys).toBeGreaterThan(0);
    });

    it('like wildcards are patterns, their escapes literal, the same on both engines', async () => {
      await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as('alice'), payload: [{ title: '100% done' }, { title: '100 x done' }, { title: 'A_B' }, { title: 'AxB' }] });
      const pct = await get(`/rest/v1/todos?select=title&title=like.${encodeURIComponent('100\\% *')}`);
      expect(pct.json()).toEqual([{ title: '100% done' }]);
      const underscore = await get(`/rest/v1/todos?select=title&title=like.${encodeURIComponent('A\\_B')}`);
      expect(underscore.json()).toEqual([{ title: 'A_B' }]);
      const caseSensitive = await get(`/rest/v1/todos?select=title&title=like.a*`);
      expect(caseSensitive.json()).toEqual([{ title: 'a-private' }]);
      const insensitive = await get(`/rest/v1/todos?select=title&title=ilike.a*`);
      expect(insensitive.json().map((r: { title: string }) => r.title).sort()).toEqual(['A_B', 'AxB', 'a-private']);
    });

    it('a NUL character is a 400, not a driver error', async () => {
      expectPgrstError(await get('/rest/v1/todos?title=eq.a%00b'), 400, 'PGRST100');
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as('alice'), payload: { title: 'a\u0000b' } });
      expectPgrstError(res, 400, '22P02');
    });
  });

  describe('identifiers come only from the schema', () => {
    it.each([
      'title;drop table api_keys', 'title"', '"title"', 'title" OR 1=1 --', 'TITLE', 'title--', 'ti tle', 'title/**/', 'todos.title', 'pg_sleep(1)',
    ])('filter key %s → 400, nothing leaks', async (key) => {
      const before = await snapshot();
      const res = await get(`/rest/v1/todos?${encodeURIComponent(key)}=eq.x`);
      expectPgrstError(res, 400, 'PGRST100');
      expect(await snapshot()).toEqual(before);
    });

    it('unknown but well-formed columns are 400 42703 (reads) and PGRST204 (writes)', async () => {
      expectPgrstError(await get('/rest/v1/todos?nope=eq.1'), 400, '42703');
      expectPgrstError(await get('/rest/v1/todos?select=nope'), 400, '42703');
      expectPgrstError(await get('/rest/v1/todos?order=nope'), 400, '42703');
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as('alice'), payload: { title: 't', nope: 1 } });
      expectPgrstError(res, 400, 'PGRST204');
      const patch = await gh.app.inject({ method: 'PATCH', url: '/rest/v1/todos?title=eq.a-private', headers: as('alice'), payload: { 'title" = 1 --': 'x' } });
      expectPgrstError(patch, 400, 'PGRST204');
    });

    it.each(['api_keys', 'projects', 'data_tables', 'gatehouse_migrations', 'todos;drop', 'TODOS', '..%2Fapi_keys'])('table %s is not reachable (404 PGRST205)', async (name) => {
      expectPgrstError(await get(`/rest/v1/${name}`, 'alice'), 404, 'PGRST205');
    });

    it('the physical name of a table is not reachable', async () => {
      const physical = (await gh.deps.storage.db.selectFrom('data_tables').select('physical_name').where('name', '=', 'todos').executeTakeFirst())!.physical_name;
      const res = await get(`/rest/v1/${physical}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('PGRST205');
      expect(res.body).not.toContain('a-private');
    });
  });

  describe('select and order', () => {
    it.each([
      'title,(select 1)', 'title::text', '*,api_keys(*)', 'title as x', 'title->>a', 'count()', 'title,note;drop', '"title"', 'x:title:y',
    ])('select=%s → 400 PGRST100', async (select) => {
      expectPgrstError(await get(`/rest/v1/todos?select=${encodeURIComponent(select)}`), 400, 'PGRST100');
    });

    it('aliases rename without reaching SQL', async () => {
      const res = await get('/rest/v1/todos?select=name:title,secret:note');
      expect(res.json()).toEqual([{ name: 'a-private', secret: 'alice secret' }]);
    });

    it.each(['title;drop table api_keys', 'title.sideways', '(case when 1=1 then title end)', 'title.asc.nullsmiddle', 'random()'])('order=%s → 400', async (order) => {
      expectPgrstError(await get(`/rest/v1/todos?order=${encodeURIComponent(order)}`), 400, 'PGRST100');
    });

    it('a guest cannot order by a column it cannot read (no sort oracle)', async () => {
      expectPgrstError(await get('/rest/v1/todos?order=note', 'guest'), 403, '42501');
    });
  });

  describe('or=(…)', () => {
    it.each([
      '(title.eq.x),1=1', '(title.eq.x) or 1=1', 'title.eq.x', '(title.eq.x', '(title.xx.1)', '(title)', '()', '(and(title.eq.x)', '(title.eq.x)))',
      '(title.eq.x,pg_sleep(1))', '(not.title.eq.x;drop)',
    ])('or=%s → 400 PGRST100', async (or) => {
      expectPgrstError(await get(`/rest/v1/todos?or=${encodeURIComponent(or)}`), 400, 'PGRST100');
    });

    it('quoted values in or=(…) are literal values', async () => {
      const res = await get(`/rest/v1/todos?select=title&or=${encodeURIComponent('(title.eq."x) OR (1=1",title.eq."a-private")')}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([{ title: 'a-private' }]);
    });

    it('or=(…) cannot widen the rows beyond the rules', async () => {
      const res = await get(`/rest/v1/todos?select=title&or=${encodeURIComponent('(title.eq.b-private,id.neq.00000000-0000-0000-0000-000000000000)')}`, 'alice');
      expect(res.json()).toEqual([{ title: 'a-private' }]);
    });

    it('nesting deeper than the limit is refused', async () => {
      let or = 'title.eq.x';
      for (let i = 0; i < 6; i++) or = `or(${or},title.eq.y)`;
      expectPgrstError(await get(`/rest/v1/todos?or=${encodeURIComponent(`(${or})`)}`), 400, 'PGRST100');
    });

    it('a guest cannot filter on an unreadable column inside or=(…)', async () => {
      expectPgrstError(await get(`/rest/v1/todos?or=${encodeURIComponent('(note.eq.alice secret,title.eq.x)')}`, 'guest'), 403, '42501');
    });
  });

  describe('limits and types', () => {
    it('operators on the wrong type are 400', async () => {
      expectPgrstError(await get('/rest/v1/todos?done=like.t*'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?meta=eq.1'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?title=is.true'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?priority=eq.abc'), 400, '22P02');
      expectPgrstError(await get('/rest/v1/todos?due=gt.yesterday'), 400, '22P02');
      expectPgrstError(await get('/rest/v1/todos?id=eq.1'), 400, '22P02');
      expectPgrstError(await get('/rest/v1/todos?done=is.maybe'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?title=fts.x'), 400, 'PGRST100');
    });

    it('an oversized in.(…) list, too many filters, a big limit or a bad Range are refused', async () => {
      const many = Array.from({ length: 101 }, (_, i) => i).join(',');
      expectPgrstError(await get(`/rest/v1/todos?priority=in.(${many})`), 400, 'PGRST100');
      const filters = Array.from({ length: 51 }, () => 'title=neq.x').join('&');
      expectPgrstError(await get(`/rest/v1/todos?${filters}`), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?limit=5000'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?limit=-1'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos?offset=1e3'), 400, 'PGRST100');
      expectPgrstError(await get('/rest/v1/todos', 'alice', { range: '5-2' }), 416, 'PGRST103');
      expectPgrstError(await get('/rest/v1/todos', 'alice', { range: 'bytes=0-1' }), 416, 'PGRST103');
    });

    it('.single() with no row or several rows is 406 PGRST116', async () => {
      const accept = { accept: 'application/vnd.pgrst.object+json' };
      expectPgrstError(await get('/rest/v1/todos?title=eq.nothing', 'alice', accept), 406, 'PGRST116');
      await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as('alice'), payload: { title: 'second' } });
      expectPgrstError(await get('/rest/v1/todos', 'alice', accept), 406, 'PGRST116');
      const one = await get('/rest/v1/todos?title=eq.second&select=title', 'alice', accept);
      expect(one.statusCode).toBe(200);
      expect(one.json()).toEqual({ title: 'second' });
    });

    it('a .single() write that touches several rows is 406 and rolled back', async () => {
      await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: as('alice'), payload: { title: 'second' } });
      const before = await snapshot();
      const res = await gh.app.inject({
        method: 'PATCH', url: '/rest/v1/todos?select=title', payload: { done: true },
        headers: { ...as('alice'), accept: 'application/vnd.pgrst.object+json', prefer: 'return=representation' },
      });
      expectPgrstError(res, 406, 'PGRST116');
      const del = await gh.app.inject({ method: 'DELETE', url: '/rest/v1/todos', headers: { ...as('alice'), accept: 'application/vnd.pgrst.object+json' } });
      expectPgrstError(del, 406, 'PGRST116');
      expect(await snapshot()).toEqual(before);
    });

    it('write values are checked: required, max_length, types', async () => {
      const before = await snapshot();
      const post = (payload: unknown) => gh.app.inject({
        method: 'POST', url: '/rest/v1/todos', headers: { ...as('alice'), 'content-type': 'application/json' }, payload: JSON.stringify(payload),
      });
      expectPgrstError(await post({ note: 'no title' }), 400, '23502');
      expectPgrstError(await post({ title: 'x'.repeat(201) }), 400, '22001');
      expectPgrstError(await post({ title: 5 }), 400, '22P02');
      expectPgrstError(await post({ title: 't', done: 'yes' }), 400, '22P02');
      expectPgrstError(await post({ title: 't', due: 'tomorrow' }), 400, '22P02');
      expectPgrstError(await post([{ title: 'ok' }, { title: null }]), 400, '23502');
      expectPgrstError(await post('just a string'), 400, 'PGRST100');
      expect(await snapshot()).toEqual(before);
    });

    it('upsert and tx=rollback are refused rather than half-done', async () => {
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos?on_conflict=title', headers: { ...as('alice'), prefer: 'resolution=merge-duplicates' }, payload: { title: 'x' } });
      expectPgrstError(res, 400, 'PGRST100');
      const tx = await gh.app.inject({ method: 'POST', url: '/rest/v1/todos', headers: { ...as('alice'), prefer: 'tx=rollback' }, payload: { title: 'x' } });
      expectPgrstError(tx, 400, 'PGRST100');
      expect((await snapshot()).todos.map((t: { title: string }) => t.title)).not.toContain('x');
    });

    it('a key scoped to another table gets 403 before any table lookup, and no rows', async () => {
      const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'publishable', scopes: ['data:lists:read'] } });
      expect(created.statusCode).toBe(201);
      const key = created.json().key as string;
      const res = await gh.app.inject({ url: '/rest/v1/todos', headers: { apikey: key, authorization: `Bearer ${alice.accessToken}` } });
      expectPgrstError(res, 403, '42501');
      expect(res.body).not.toContain('a-private');
      const unknown = await gh.app.inject({ url: '/rest/v1/secret_table', headers: { apikey: key } });
      expect(unknown.statusCode).toBe(403);
    });

    it('no key or token appears in the logs', async () => {
      await get('/rest/v1/todos?title=eq.x');
      const logs = gh.logs.join('\n');
      for (const secret of [gh.secretKey, gh.publishableKey, alice.accessToken, bob.accessToken]) expect(logs).not.toContain(secret);
    });
  });
});

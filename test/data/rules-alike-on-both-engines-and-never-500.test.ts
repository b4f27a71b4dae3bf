// Findings of the security review of the Data API (issue #4), each pinned on
// both engines: engine-independent text comparison in rules, type mismatches
// in rules, missing claims, values the database itself cannot index, Range
// bounds, scoped and other-environment keys, writes that would leave the
// caller's visibility, supabase-js .single()/.maybeSingle()/return=minimal,
// and a parser fuzz that must never produce a 500.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, client, generousLimitsEnv } from './fixtures.js';

const SCHEMA = {
  tables: {
    // Byte-order comparison: 'B' < 'Z' < 'a' < 'm' < 'é' on both engines, whatever the cluster's locale.
    ranks: { columns: { tier: { type: 'text' } }, rules: { select: ['admin', 'tier < "m"'], insert: ['admin'], update: ['admin'], delete: ['admin'] } },
    // Rules whose types do not line up, and a claim no token carries.
    typed: {
      columns: { label: { type: 'text' }, n: { type: 'integer' }, org: { type: 'text' } },
      rules: { select: ['admin', 'label == 5', 'n == "7"', 'auth.claims.org == org', 'auth.claims.org != org', '!(auth.claims.org == org)', '!(label == n)', '!(auth.uid == 5)'], insert: ['admin'], update: ['admin'], delete: ['admin'] },
    },
    // Update allowed, but only open rows are visible: a write may not hide a row from its writer.
    moves: {
      columns: { open: { type: 'boolean', default: true }, title: { type: 'text' }, code: { type: 'text', unique: true } },
      rules: { select: ['admin', 'open == true'], insert: ['user', 'admin'], update: ['user', 'admin'], delete: ['user', 'admin'] },
    },
  },
};

describe.each(engines())('data API security review (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  const secret = () => ({ apikey: gh.secretKey });
  const asAlice = () => ({ apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` });
  const rows = async (table: string, select = '*') => {
    const res = await gh.app.inject({ url: `/rest/v1/${table}?select=${select}&order=created_at,id`, headers: secret() });
    expect(res.statusCode).toBe(200);
    return res.json() as Array<Record<string, unknown>>;
  };
  const expectError = (res: { statusCode: number; body: string; json(): any }, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toMatchObject({ code });
    expect(res.body).not.toMatch(/d_[0-9a-f]{24}|SQLITE|index row|btree/i);
  };

  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true, env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey, SCHEMA);
    alice = await createTestUser(gh);
  });
  afterAll(async () => gh?.close());
  beforeEach(async () => {
    for (const table of ['ranks', 'typed', 'moves']) {
      await gh.app.inject({ method: 'DELETE', url: `/rest/v1/${table}`, headers: secret() });
    }
  });

  it('text rules, filters and order compare by code point on both engines (no locale-dependent authorization)', async () => {
    const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/ranks', headers: secret(), payload: ['a', 'B', 'é', 'Z', 'm'].map((tier) => ({ tier })) });
    expect(res.statusCode).toBe(201);
    const seen = await gh.app.inject({ url: '/rest/v1/ranks?select=tier&order=tier', headers: asAlice() });
    expect(seen.json()).toEqual([{ tier: 'B' }, { tier: 'Z' }, { tier: 'a' }]);
    const filtered = await gh.app.inject({ url: '/rest/v1/ranks?select=tier&order=tier.desc&tier=gt.Z', headers: secret() });
    expect(filtered.json()).toEqual([{ tier: 'é' }, { tier: 'm' }, { tier: 'a' }]);
    if (engine === 'postgres') {
      // The columns themselves carry the byte-order collation, so a cluster initialised with en_US cannot change the answer.
      const physical = (await gh.deps.storage.db.selectFrom('data_tables').select('physical_name').where('name', '=', 'ranks').where('project_id', '=', gh.project.id).executeTakeFirstOrThrow()).physical_name;
      const cols = await sql<{ column_name: string; collation_name: string | null }>`select column_name, collation_name from information_schema.columns where table_name = ${physical}`.execute(gh.deps.storage.db);
      const byName = Object.fromEntries(cols.rows.map((c) => [c.column_name, c.collation_name]));
      expect(byName).toMatchObject({ tier: 'C', id: 'C', created_by: 'C', created_at: 'C' });
    }
  });

  it('rules comparing mismatched types, or claims the token lacks, allow nothing (the same on both engines)', async () => {
    const res = await gh.app.inject({
      method: 'POST', url: '/rest/v1/typed', headers: secret(),
      payload: [{ label: '5' }, { label: 'seven', n: 7 }, { label: 'no org' }, { label: 'org x', org: 'x' }, { label: 'eight', n: 8 }],
    });
    expect(res.statusCode).toBe(201);
    const seen = await gh.app.inject({ url: '/rest/v1/typed?select=label', headers: asAlice() });
    expect(seen.statusCode).toBe(200);
    // 'label == 5' (number vs text) never matches, 'n == "7"' is the integer 7, every rule on the missing claim is unknown,
    // and so are a text column against an integer column and a string uid against a number, even under !
    // (both used to fold to false, so `!(…)` allowed every row).
    expect(seen.json()).toEqual([{ label: 'seven' }]);
    const count = await gh.app.inject({ url: '/rest/v1/typed?select=label', headers: { ...asAlice(), prefer: 'count=exact' } });
    expect(count.headers['content-range']).toBe('0-0/1');
    // An is.null filter on the rule's column finds no hidden row either.
    const nulls = await gh.app.inject({ url: '/rest/v1/typed?select=label&org=is.null', headers: asAlice() });
    expect(nulls.json()).toEqual([{ label: 'seven' }]);
  });

  it('a unique text value too large for an index is a 400 on both engines, never a 500, and nothing is written', async () => {
    for (const code of ['x'.repeat(300_000), 'é'.repeat(1001)]) {
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: { title: 'big', code } });
      expectError(res, 400, '22001');
      expect(res.json().message).toContain('code');
    }
    const ok = await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: { title: 'fits', code: 'é'.repeat(1000) } });
    expect(ok.statusCode).toBe(201);
    const patch = await gh.app.inject({ method: 'PATCH', url: '/rest/v1/moves?title=eq.fits', headers: asAlice(), payload: { code: 'y'.repeat(5000) } });
    expectError(patch, 400, '22001');
    expect((await rows('moves', 'title,code')).map((r) => [r.title, (r.code as string).length])).toEqual([['fits', 1000]]);
  });

  it('a Range cannot start beyond the offset limit', async () => {
    const res = await gh.app.inject({ url: '/rest/v1/moves', headers: { ...asAlice(), range: '999999999-' } });
    expectError(res, 416, 'PGRST103');
    expect(res.json().data).toBeUndefined();
  });

  it('a PATCH that would move a row out of the caller\'s sight is refused and rolled back', async () => {
    const made = await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: [{ title: 'one' }, { title: 'two' }] });
    expect(made.statusCode).toBe(201);
    const hide = await gh.app.inject({ method: 'PATCH', url: '/rest/v1/moves', headers: asAlice(), payload: { open: false } });
    expectError(hide, 403, '42501');
    expect((await rows('moves', 'title,open')).map((r) => [r.title, r.open]).sort()).toEqual([['one', true], ['two', true]]);
  });

  it('a POST array mixing allowed and disallowed rows writes none of them', async () => {
    const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: [{ title: 'fine' }, { title: 'hidden', open: false }] });
    expectError(res, 403, '42501');
    expect(await rows('moves')).toEqual([]);
  });

  it('a key scoped to data:<table>:read reads but never writes', async () => {
    await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: { title: 'kept' } });
    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: secret(), payload: { kind: 'secret', scopes: ['data:moves:read'] } });
    expect(created.statusCode).toBe(201);
    const key = created.json().key as string;
    const read = await gh.app.inject({ url: '/rest/v1/moves?select=title', headers: { apikey: key } });
    expect(read.json()).toEqual([{ title: 'kept' }]);
    for (const [method, payload] of [['POST', { title: 'scoped' }], ['PATCH', { title: 'scoped' }], ['DELETE', undefined]] as const) {
      const res = await gh.app.inject({ method, url: '/rest/v1/moves', headers: { apikey: key }, ...(payload ? { payload } : {}) });
      expectError(res, 403, '42501');
    }
    expect((await rows('moves', 'title')).map((r) => r.title)).toEqual(['kept']);
  });

  it('a secret key or a user of another environment of the project reaches none of these rows', async () => {
    await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: { title: 'dev row' } });
    const sk = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'staging', kind: 'secret', name: 'staging sk' });
    const pk = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'staging', kind: 'publishable', name: 'staging pk' });
    await applySchema(gh, sk.key, SCHEMA);
    const read = await gh.app.inject({ url: '/rest/v1/moves?select=title', headers: { apikey: sk.key } });
    expect(read.json()).toEqual([]);
    const del = await gh.app.inject({ method: 'DELETE', url: '/rest/v1/moves', headers: { apikey: sk.key, prefer: 'count=exact' } });
    expect(del.statusCode).toBe(204);
    expect(del.headers['content-range']).toBe('*/0');
    // A staging user's token with the dev key is not a dev user.
    const stagingUser = await createTestUser(gh, { publishableKey: pk.key });
    const mixed = await gh.app.inject({ url: '/rest/v1/moves', headers: { apikey: gh.publishableKey, authorization: `Bearer ${stagingUser.accessToken}` } });
    expect(mixed.statusCode).toBe(401);
    expect(mixed.body).not.toContain('dev row');
    expect((await rows('moves', 'title')).map((r) => r.title)).toEqual(['dev row']);
  });

  it('supabase-js: return=minimal, .single() and .maybeSingle() behave as with PostgREST', async () => {
    const sb = client(gh, gh.publishableKey, alice.accessToken);
    const minimal = await sb.from('moves').insert({ title: 'm1' });
    expect([minimal.status, minimal.data, minimal.error]).toEqual([201, null, null]);
    const updated = await sb.from('moves').update({ title: 'm2' }).eq('title', 'm1');
    expect([updated.status, updated.data, updated.error]).toEqual([204, null, null]);
    const one = await sb.from('moves').select('title').eq('title', 'm2').single();
    expect([one.status, one.data, one.error]).toEqual([200, { title: 'm2' }, null]);
    const none = await sb.from('moves').select('title').eq('title', 'nothing').single();
    expect(none.status).toBe(406);
    expect(none.error?.code).toBe('PGRST116');
    expect(none.data).toBeNull();
    const maybe = await sb.from('moves').select('title').eq('title', 'nothing').maybeSingle();
    expect([maybe.data, maybe.error]).toEqual([null, null]);
    const deleted = await sb.from('moves').delete().eq('title', 'm2');
    expect([deleted.status, deleted.error]).toEqual([204, null]);
    expect(await rows('moves')).toEqual([]);
  });

  it('fuzz: 400 hostile query strings and headers are 2xx or PostgREST-shaped 4xx, never 500', async () => {
    await gh.app.inject({ method: 'POST', url: '/rest/v1/moves', headers: asAlice(), payload: [{ title: 'f1' }, { title: 'f2', code: 'c' }] });
    const before = await rows('moves');
    const frags = [
      'title', 'open', 'code', 'id', 'created_by', 'select', 'order', 'or', 'and', 'not', 'limit', 'offset', 'columns', '*', 'nope',
      'eq', 'neq', 'gt', 'like', 'ilike', 'in', 'is', 'null', 'true', 'cs', 'fts', '.', ',', '(', ')', '"', '\\', ':', '::', '->', '%', '_',
      "'", ';', '--', '/*', '=', '&', '#', '\u0000', '\u202e', 'é', '😀', '\ud800', '1e999', '-1', '9999999999999999999', '0x1', 'NaN',
      ' ', '%00', '%ZZ', '%25', '+', 'not.', 'and(', 'or(', 'desc', 'nullsfirst', '[', ']', '{', '}',
    ];
    let seed = engine === 'sqlite' ? 1 : 2;
    // mulberry32: seeded, so a failure replays.
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const word = () => Array.from({ length: 1 + rnd(6) }, () => frags[rnd(frags.length)]).join('');
    // Raw: printable ASCII as typed (unescaped , ( ) " etc.); else percent-encoded (a lone surrogate as U+FFFD, as a browser would).
    const enc = (s: string) => (rnd(3) === 0 ? s.replace(/[^\x21-\x7e]|#/g, '') : encodeURIComponent(s.replace(/[\ud800-\udfff]/g, (c, i, all) => (/[\ud800-\udbff][\udc00-\udfff]/.test(all.slice(i, i + 2)) || /[\ud800-\udbff][\udc00-\udfff]/.test(all.slice(i - 1, i + 1)) ? c : '\ufffd'))));
    const statuses: Record<number, number> = {};
    for (let i = 0; i < 400; i++) {
      // Half free-form noise, half the grammar's shape (real columns and operators) around hostile values.
      const cols = ['title', 'open', 'code', 'id', 'created_by', 'created_at'];
      const ops = ['eq', 'neq', 'gt', 'lte', 'like', 'ilike', 'is', 'in', 'not.eq', 'not.in', 'not.is'];
      const shaped = () => {
        const col = cols[rnd(cols.length)]!;
        const op = ops[rnd(ops.length)]!;
        const plausible = ['f1', 'f*', 'true', 'null', '2020-01-01', '00000000-0000-4000-8000-000000000000', 'c', '%', '"a,b"'];
        const v = () => (rnd(2) ? plausible[rnd(plausible.length)]! : word());
        const value = op.endsWith('in') ? `(${v()},${v()})` : v();
        switch (rnd(5)) {
          case 0: return `or=${enc(`(${col}.${op}.${value},and(${cols[rnd(cols.length)]}.${ops[rnd(ops.length)]}.${word()}))`)}`;
          case 1: return `order=${enc(`${col}.${['asc', 'desc', 'desc.nullsfirst', word()][rnd(4)]}`)}`;
          case 2: return `select=${enc(rnd(2) ? `${col},alias:title` : `${col},${word()}`)}`;
          case 3: return `${['limit', 'offset'][rnd(2)]}=${enc(rnd(2) ? String(rnd(2000)) : word())}`;
          default: return `${col}=${enc(`${op}.${value}`)}`;
        }
      };
      const params = Array.from({ length: 1 + rnd(2) }, () => (rnd(5) ? shaped() : `${enc(word())}=${enc(word())}`)).join('&');
      const method = (['GET', 'GET', 'DELETE', 'PATCH', 'POST'] as const)[rnd(5)]!;
      const headers: Record<string, string> = { ...(rnd(2) ? asAlice() : { apikey: gh.publishableKey }) };
      if (rnd(6) === 0) headers.range = word().replace(/[^\x20-\x7e]/g, '');
      if (rnd(6) === 0) headers.prefer = word().replace(/[^\x20-\x7e]/g, '');
      if (rnd(6) === 0) headers.accept = 'application/vnd.pgrst.object+json';
      // Writes as a guest (no rule lets one write) or with a body naming a bad column: nothing may change.
      if (method !== 'GET' && method !== 'DELETE') headers['content-type'] = 'application/json';
      const payload = method === 'PATCH' || method === 'POST' ? (rnd(2) ? { [word().slice(0, 40)]: word() } : [{ created_by: 'x' }]) : undefined;
      const isGuest = !headers.authorization;
      const url = `/rest/v1/${rnd(8) === 0 ? enc(word()) : 'moves'}?${params}`;
      const res = await gh.app.inject({ method, url, headers: method === 'DELETE' && !isGuest ? { apikey: gh.publishableKey } : headers, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode >= 400) {
        const body = res.json();
        expect(typeof body.code, url).toBe('string');
        expect(body).toHaveProperty('message');
        expect(res.body).not.toMatch(/d_[0-9a-f]{24}|SQLITE_|at [A-Za-z.]+ \(/);
      }
    }
    // The fuzz reached past the parser: some requests ran queries.
    expect(statuses[200] ?? 0, JSON.stringify(statuses)).toBeGreaterThan(10);
    // Guests may not write and alice's write bodies name no real column: nothing changed.
    expect(await rows('moves')).toEqual(before);
  });
});

describe.each(engines())('data API wide inserts (%s)', (engine) => {
  let gh: TestApp;
  afterAll(async () => gh?.close());

  it('a bulk insert into a 100-column table is taken whole on both engines (bound-parameter limits), not a 500', async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    const columns = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`c${i}`, { type: 'integer' }]));
    await applySchema(gh, gh.secretKey, { tables: { wide: { columns } } });
    // One key per row in the body (JSON bodies are capped at 10,000 keys); every row still binds all 104 columns.
    const row = { c99: 99 };
    const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/wide', headers: { apikey: gh.secretKey, prefer: 'count=exact' }, payload: Array.from({ length: 500 }, () => row) });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    const count = await gh.app.inject({ method: 'HEAD', url: '/rest/v1/wide?c99=eq.99', headers: { apikey: gh.secretKey, prefer: 'count=exact' } });
    expect(count.headers['content-range']).toBe('0-499/500');
  });
});

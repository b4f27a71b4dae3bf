// POST /admin/v1/tables/:name/rows/view-as: the Data API's own answer for a user, a guest or an
// admin, compared with a real GET /rest/v1 by that caller on a rules-on table, on every engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from '../data/fixtures.js';
import { asOperator, sessionFor, setUp } from './operators.js';
import { accessClaimsFor, appMetadataOf, userMetadataOf } from '../../src/identity/index.js';

describe.each(engines())('admin view-as (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let other: { publishableKey: string; secretKey: string };
  let carol: TestUser;

  async function insert(user: TestUser, row: Record<string, unknown>) {
    const res = await gh.app.inject({
      method: 'POST', url: '/rest/v1/todos', headers: { apikey: gh.publishableKey, authorization: `Bearer ${user.accessToken}` }, payload: row,
    });
    expect(res.statusCode).toBe(201);
  }

  async function rest(query: string, who: { apikey: string; token?: string }) {
    const res = await gh.app.inject({
      url: `/rest/v1/todos?${query}`, headers: { apikey: who.apikey, ...(who.token ? { authorization: `Bearer ${who.token}` } : {}) },
    });
    expect(res.statusCode).toBe(200);
    return res.json() as Array<Record<string, unknown>>;
  }

  async function viewAs(body: unknown, apikey = gh.secretKey, table = 'todos') {
    return gh.app.inject({ method: 'POST', url: `/admin/v1/tables/${table}/rows/view-as`, headers: { apikey }, payload: body as object });
  }

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey);
    other = await gh.createProject('elsewhere');
    [alice, bob] = await Promise.all([createTestUser(gh), createTestUser(gh)]);
    carol = await createTestUser(gh, { publishableKey: other.publishableKey });
    await insert(alice, { title: 'a-private', note: 'alice secret' });
    await insert(alice, { title: 'a-public', public: true, note: 'alice public note' });
    await insert(bob, { title: 'b-private', note: 'bob secret', done: true });
  });
  afterAll(async () => gh?.close());

  const cases = [
    { name: 'user A', as: () => ({ kind: 'user', userId: alice.id }), who: () => ({ apikey: gh.publishableKey, token: alice.accessToken }) },
    { name: 'user B', as: () => ({ kind: 'user', userId: bob.id }), who: () => ({ apikey: gh.publishableKey, token: bob.accessToken }) },
    { name: 'a guest', as: () => ({ kind: 'guest' }), who: () => ({ apikey: gh.publishableKey }) },
    { name: 'an admin', as: () => ({ kind: 'admin' }), who: () => ({ apikey: gh.secretKey }) },
  ];

  for (const c of cases) {
    it(`as ${c.name}: exactly the rows and columns /rest/v1 gives that caller`, async () => {
      const expected = await rest('select=*&order=title', c.who());
      const res = await viewAs({ as: c.as(), order: 'title' });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { columns: string[]; rows: Array<Record<string, unknown>> };
      expect(body.rows).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
      expect(body.columns).toEqual(Object.keys(expected[0]!));

      const narrowed = await rest('select=title,done&done=eq.false&order=title.desc&limit=1', c.who());
      const view = await viewAs({ as: c.as(), select: 'title,done', filter: { done: 'eq.false' }, order: 'title.desc', limit: 1 });
      expect(view.statusCode).toBe(200);
      expect(view.json().rows).toEqual(narrowed);
      const asQueryString = await viewAs({ as: c.as(), select: 'title,done', filter: 'done=eq.false', order: 'title.desc', limit: 1 });
      expect(asQueryString.json().rows).toEqual(narrowed);
    });
  }

  it('view-as builds the claims sign-in signs (one builder): all but iss/iat/exp and the session ones (session_id, amr)', async () => {
    const signed = JSON.parse(Buffer.from(alice.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const row = (await gh.deps.identity.users.byId(gh.project.id, 'dev', alice.id))!;
    const preview = accessClaimsFor(gh.project.id, 'dev', { sub: row.id, email: row.email, role: row.role, appMetadata: appMetadataOf(row), userMetadata: userMetadataOf(row) });
    const { iss, iat, exp, session_id: sessionId, amr, ...rest } = signed;
    expect([typeof iss, typeof iat, typeof exp, typeof sessionId, Array.isArray(amr)]).toEqual(['string', 'number', 'number', 'string', true]);
    expect(preview).toEqual(rest);
    expect('session_id' in preview).toBe(false);
  });

  it('a dashboard viewer may view as a user or a guest, never as an admin; an owner may', async () => {
    const owner = await setUp(gh);
    await gh.deps.operators.add({ email: 'viewer@example.com', password: 'correct horse battery staple', roles: [{ projectId: gh.project.id, role: 'viewer' }] });
    const viewer = await sessionFor(gh, 'viewer@example.com');
    const post = (who: typeof owner, as: object) => asOperator(gh, who, { method: 'POST', url: '/admin/v1/tables/todos/rows/view-as', project: gh.project.id, payload: { as } });
    expect((await post(viewer, { kind: 'guest' })).statusCode).toBe(200);
    expect((await post(viewer, { kind: 'user', userId: alice.id })).statusCode).toBe(200);
    const asAdmin = await post(viewer, { kind: 'admin' });
    expect([asAdmin.statusCode, asAdmin.json().error]).toEqual([403, 'forbidden']);
    expect((await post(owner, { kind: 'admin' })).statusCode).toBe(200);
    // GET /schema is a read: open to the viewer.
    expect((await asOperator(gh, viewer, { url: '/admin/v1/schema', project: gh.project.id })).statusCode).toBe(200);
  });

  it('the callers really differ: a guest sees no private row and no note column; B never sees A\'s private row', async () => {
    const guest = (await viewAs({ as: { kind: 'guest' } })).json() as { columns: string[]; rows: Array<{ title: string }> };
    expect(guest.rows.map((r) => r.title)).toEqual(['a-public']);
    expect(guest.columns).not.toContain('note');
    const asBob = (await viewAs({ as: { kind: 'user', userId: bob.id }, order: 'title' })).json() as { rows: Array<{ title: string }> };
    expect(asBob.rows.map((r) => r.title)).toEqual(['a-public', 'b-private']);
  });

  it('a column the caller may not read is refused the way /rest/v1 refuses it', async () => {
    const direct = await gh.app.inject({ url: '/rest/v1/todos?select=title,note', headers: { apikey: gh.publishableKey } });
    const view = await viewAs({ as: { kind: 'guest' }, select: 'title,note' });
    expect(direct.statusCode).toBe(403);
    expect(view.statusCode).toBe(403);
    expect(view.json().error).toBe('data_column_forbidden');
  });

  describe('refusals', () => {
    it('a user of another project, or no such user: 404', async () => {
      expect((await viewAs({ as: { kind: 'user', userId: carol.id } })).statusCode).toBe(404);
      expect((await viewAs({ as: { kind: 'user', userId: 'usr_nobody' } })).statusCode).toBe(404);
    });

    it('an unknown table: 404; a bad table name: 400', async () => {
      expect((await viewAs({ as: { kind: 'guest' } }, gh.secretKey, 'nothing_here')).statusCode).toBe(404);
      expect((await viewAs({ as: { kind: 'guest' } }, gh.secretKey, 'Bad-Name')).statusCode).toBe(400);
    });

    it('bad bodies: 400 with a clear error, never a 500', async () => {
      const bodies: unknown[] = [
        {},
        { as: { kind: 'root' } },
        { as: { kind: 'user' } },
        { as: { kind: 'guest' }, limit: 0 },
        { as: { kind: 'guest' }, limit: 1001 },
        { as: { kind: 'guest' }, filter: { select: 'id' } },
        { as: { kind: 'guest' }, filter: { limit: '5' } },
        { as: { kind: 'guest' }, filter: 'done=eq.false&offset=3' },
        { as: { kind: 'guest' }, filter: 'title=nonsense.x' },
        { as: { kind: 'guest' }, filter: { title: 'nonsense.x' } },
        { as: { kind: 'guest' }, select: 'no_such_column' },
        { as: { kind: 'guest' }, order: 'title.sideways' },
        { as: { kind: 'guest' }, extra: true },
      ];
      for (const body of bodies) {
        const res = await viewAs(body);
        expect(res.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, JSON.stringify(body)).toBeLessThan(500);
        expect(res.json(), JSON.stringify(body)).toHaveProperty('error');
      }
    });

    it('a publishable key without an admin user is refused; a user is refused', async () => {
      expect((await viewAs({ as: { kind: 'admin' } }, gh.publishableKey)).statusCode).toBe(403);
      const res = await gh.app.inject({
        method: 'POST', url: '/admin/v1/tables/todos/rows/view-as',
        headers: { apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` }, payload: { as: { kind: 'admin' } },
      });
      expect(res.statusCode).toBe(403);
    });

    it('a key scoped to admin:tables but not data:todos:read cannot read rows through it', async () => {
      const made = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', name: 'tables only', scopes: ['admin:tables'] } });
      expect(made.statusCode).toBe(201);
      const res = await viewAs({ as: { kind: 'admin' } }, made.json().key as string);
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('insufficient_scope');
      const both = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', name: 'tables and rows', scopes: ['admin:tables', 'data:todos:read'] } });
      expect((await viewAs({ as: { kind: 'admin' } }, both.json().key as string)).statusCode).toBe(200);
    });

    it('another project\'s secret key sees its own (empty) table, never this one\'s rows', async () => {
      await applySchema(gh, other.secretKey);
      const res = await viewAs({ as: { kind: 'admin' } }, other.secretKey);
      expect(res.statusCode).toBe(200);
      expect(res.json().rows).toEqual([]);
    });
  });
});

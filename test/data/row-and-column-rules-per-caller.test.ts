// The authorization matrix of issue #4, through the real supabase-js on every
// engine: guest, user (self on its own rows), another user, admin (secret key
// and admin user), and a user of another project environment, × select,
// insert, update, delete × own and foreign rows, on a table with column rules.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { generousLimitsEnv, applySchema, client } from './fixtures.js';

type Row = Record<string, unknown> & { id: string; title: string };

describe.each(engines())('data API authorization matrix (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let boss: TestUser;
  let carol: TestUser;
  let other: { publishableKey: string; secretKey: string };
  const sb = {} as Record<'guest' | 'alice' | 'bob' | 'secret' | 'adminUser' | 'carol', SupabaseClient>;
  let rows: { alicePrivate: Row; alicePublic: Row; bobPrivate: Row };

  /** Ground truth, read with the secret key. */
  async function all(): Promise<Row[]> {
    const { data, error } = await sb.secret.from('todos').select('*').order('title');
    expect(error).toBeNull();
    return data as Row[];
  }
  const titles = (list: unknown) => (list as Row[]).map((r) => r.title).sort();

  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true, env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey);
    const b = await gh.createProject('other-project');
    other = b;
    await applySchema(gh, b.secretKey);
    [alice, bob, boss, carol] = await Promise.all([
      createTestUser(gh), createTestUser(gh), createTestUser(gh, { admin: true }), createTestUser(gh, { publishableKey: b.publishableKey }),
    ]);
    sb.guest = client(gh, gh.publishableKey);
    sb.alice = client(gh, gh.publishableKey, alice.accessToken);
    sb.bob = client(gh, gh.publishableKey, bob.accessToken);
    sb.secret = client(gh, gh.secretKey);
    sb.adminUser = client(gh, gh.publishableKey, boss.accessToken);
    sb.carol = client(gh, other.publishableKey, carol.accessToken);
  });
  afterAll(async () => gh?.close());

  beforeEach(async () => {
    await sb.secret.from('todos').delete().neq('id', '00000000-0000-0000-0000-000000000000');
    const a1 = await sb.alice.from('todos').insert({ title: 'a-private', note: 'alice secret' }).select().single();
    const a2 = await sb.alice.from('todos').insert({ title: 'a-public', public: true, note: 'alice public note' }).select().single();
    const b1 = await sb.bob.from('todos').insert({ title: 'b-private', note: 'bob secret' }).select().single();
    expect([a1.error, a2.error, b1.error]).toEqual([null, null, null]);
    rows = { alicePrivate: a1.data as Row, alicePublic: a2.data as Row, bobPrivate: b1.data as Row };
  });

  describe('select', () => {
    it('guest sees only public rows and never a self-only column', async () => {
      const { data, error } = await sb.guest.from('todos').select('*');
      expect(error).toBeNull();
      expect(titles(data)).toEqual(['a-public']);
      expect(Object.keys((data as Row[])[0]!)).not.toContain('note');
      expect((data as Row[])[0]!.priority).toBeNull();
    });

    it('a user sees own rows (with its notes) and public rows, not another user\'s private rows', async () => {
      const { data, error } = await sb.alice.from('todos').select('title,note').order('title');
      expect(error).toBeNull();
      expect(data).toEqual([{ title: 'a-private', note: 'alice secret' }, { title: 'a-public', note: 'alice public note' }]);
    });

    it('another user sees the public row with its self-only column masked to null', async () => {
      const { data, error } = await sb.bob.from('todos').select('title,note').order('title');
      expect(error).toBeNull();
      expect(data).toEqual([{ title: 'a-public', note: null }, { title: 'b-private', note: 'bob secret' }]);
    });

    it('a self-only column cannot be used as an oracle through filters', async () => {
      const { data, error } = await sb.bob.from('todos').select('title').eq('note', 'alice public note');
      expect(error).toBeNull();
      expect(data).toEqual([]);
      const ordered = await sb.bob.from('todos').select('title').like('note', 'alice%');
      expect(ordered.data).toEqual([]);
    });

    it('guest filtering on a column it cannot read gets 403 naming the column', async () => {
      const { data, error, status } = await sb.guest.from('todos').select('title').eq('note', 'alice public note');
      expect(status).toBe(403);
      expect(error?.code).toBe('42501');
      expect(error?.message).toContain('note');
      expect(data).toBeNull();
      const chosen = await sb.guest.from('todos').select('title,note');
      expect(chosen.status).toBe(403);
      expect(chosen.error?.message).toContain('note');
    });

    it('admin (secret key and admin user) sees every row and column', async () => {
      for (const who of [sb.secret, sb.adminUser]) {
        const { data, error } = await who.from('todos').select('title,note').order('title');
        expect(error).toBeNull();
        expect(data).toEqual([
          { title: 'a-private', note: 'alice secret' }, { title: 'a-public', note: 'alice public note' }, { title: 'b-private', note: 'bob secret' },
        ]);
      }
    });

    it('counts obey the rules too', async () => {
      const { count, error } = await sb.bob.from('todos').select('*', { count: 'exact', head: true });
      expect(error).toBeNull();
      expect(count).toBe(2);
      const guest = await sb.guest.from('todos').select('*', { count: 'exact', head: true });
      expect(guest.count).toBe(1);
    });

    it('a user of another project environment sees none of these rows', async () => {
      const { data, error } = await sb.carol.from('todos').select('*');
      expect(error).toBeNull();
      expect(data).toEqual([]);
      const byId = await sb.carol.from('todos').select('*').eq('id', rows.alicePublic.id);
      expect(byId.data).toEqual([]);
    });

    it('a user of another environment of the same project sees none of these rows', async () => {
      const created = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'staging', kind: 'publishable', name: 'staging pk' });
      const stagingUser = await createTestUser(gh, { publishableKey: created.key });
      const staging = client(gh, created.key, stagingUser.accessToken);
      const before = await staging.from('todos').select('*');
      expect(before.status).toBe(404);
      expect(before.error?.code).toBe('PGRST205');
      const sk = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'staging', kind: 'secret', name: 'staging sk' });
      await applySchema(gh, sk.key);
      const after = await staging.from('todos').select('*').eq('id', rows.alicePrivate.id);
      expect(after.error).toBeNull();
      expect(after.data).toEqual([]);
      const update = await staging.from('todos').update({ title: 'staging was here' }).eq('id', rows.alicePublic.id).select();
      expect(update.data).toEqual([]);
      expect(titles(await all())).toEqual(['a-private', 'a-public', 'b-private']);
    });

    it('a user token of another project is refused with this project\'s key', async () => {
      const mixed = client(gh, gh.publishableKey, carol.accessToken);
      const { data, status } = await mixed.from('todos').select('*');
      expect(status).toBe(401);
      expect(data).toBeNull();
    });
  });

  describe('insert', () => {
    it('guest cannot insert (403 42501) and nothing is written', async () => {
      const { error, status } = await sb.guest.from('todos').insert({ title: 'guest row' });
      expect(status).toBe(403);
      expect(error?.code).toBe('42501');
      expect(titles(await all())).not.toContain('guest row');
      await gh.deps.events.flush();
      const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'resource_access_denied' });
      expect(events.some((e) => (e.details as { reason?: string }).reason === 'data_rls_denied')).toBe(true);
    });

    it('a user inserts rows that belong to it', async () => {
      const { data, error, status } = await sb.bob.from('todos').insert([{ title: 'b-2' }, { title: 'b-3', done: true }]).select('title,created_by,done');
      expect(error).toBeNull();
      expect(status).toBe(201);
      expect(data).toEqual([{ title: 'b-2', created_by: bob.id, done: false }, { title: 'b-3', created_by: bob.id, done: true }]);
    });

    it('nobody sets created_by (or any server column): 403 naming it, nothing written', async () => {
      for (const column of ['created_by', 'id', 'created_at', 'updated_at']) {
        const value = column === 'id' ? '00000000-0000-4000-8000-000000000000' : column === 'created_by' ? alice.id : '2020-01-01T00:00:00Z';
        const { error, status } = await sb.bob.from('todos').insert({ title: `forged ${column}`, [column]: value });
        expect(status).toBe(403);
        expect(error?.code).toBe('42501');
        expect(error?.message).toContain(column);
      }
      expect((await all()).filter((r) => String(r.title).startsWith('forged'))).toEqual([]);
    });

    it('a column the caller cannot write is refused with 403 naming it', async () => {
      const { error, status } = await sb.alice.from('todos').insert({ title: 'urgent', priority: 1 });
      expect(status).toBe(403);
      expect(error?.code).toBe('42501');
      expect(error?.message).toContain('priority');
      expect(titles(await all())).not.toContain('urgent');
      const ok = await sb.secret.from('todos').insert({ title: 'urgent', priority: 1 }).select('priority').single();
      expect(ok.data).toEqual({ priority: 1 });
    });

    it('a user of another project environment writes only into its own environment', async () => {
      const { error } = await sb.carol.from('todos').insert({ title: 'carol row' });
      expect(error).toBeNull();
      expect(titles(await all())).not.toContain('carol row');
      const own = await sb.carol.from('todos').select('title');
      expect(titles(own.data)).toEqual(['carol row']);
    });

    it('a reference to a row the caller cannot see is refused like a missing one', async () => {
      const list = await sb.alice.from('lists').insert({ name: 'alice list' }).select().single();
      expect(list.error).toBeNull();
      const denied = await sb.bob.from('todos').insert({ title: 'sneaky', list_id: (list.data as Row).id });
      expect(denied.status).toBe(409);
      expect(denied.error?.code).toBe('23503');
      const missing = await sb.bob.from('todos').insert({ title: 'sneaky', list_id: '11111111-1111-4111-8111-111111111111' });
      expect(missing.status).toBe(409);
      expect(missing.error?.message).toBe(denied.error?.message);
      expect(titles(await all())).not.toContain('sneaky');
      const ok = await sb.alice.from('todos').insert({ title: 'listed', list_id: (list.data as Row).id });
      expect(ok.error).toBeNull();
    });
  });

  describe('update', () => {
    it('guest cannot update (403 42501), nothing changes', async () => {
      const { error, status } = await sb.guest.from('todos').update({ done: true }).eq('id', rows.alicePublic.id);
      expect(status).toBe(403);
      expect(error?.code).toBe('42501');
      expect((await all()).every((r) => r.done === false)).toBe(true);
    });

    it('a user updates its own row', async () => {
      const { data, error } = await sb.alice.from('todos').update({ done: true, note: 'changed' }).eq('id', rows.alicePrivate.id).select('done,note');
      expect(error).toBeNull();
      expect(data).toEqual([{ done: true, note: 'changed' }]);
    });

    it('another user\'s rows are untouched, even visible public ones', async () => {
      for (const row of [rows.alicePublic, rows.alicePrivate]) {
        const { data, error } = await sb.bob.from('todos').update({ title: 'hijacked' }).eq('id', row.id).select();
        expect(error).toBeNull();
        expect(data).toEqual([]);
      }
      expect(titles(await all())).toEqual(['a-private', 'a-public', 'b-private']);
    });

    it('a bulk update touches only the caller\'s own rows', async () => {
      const { data, error } = await sb.bob.from('todos').update({ done: true }).eq('done', false).select('title');
      expect(error).toBeNull();
      expect(titles(data)).toEqual(['b-private']);
      expect((await all()).filter((r) => r.done).map((r) => r.title)).toEqual(['b-private']);
    });

    it('a forbidden column or created_by in an update is refused with 403 naming it', async () => {
      for (const [column, value] of [['priority', 5], ['created_by', bob.id]] as const) {
        const { error, status } = await sb.alice.from('todos').update({ [column]: value }).eq('id', rows.alicePrivate.id);
        expect(status).toBe(403);
        expect(error?.message).toContain(column);
      }
      const row = (await all()).find((r) => r.id === rows.alicePrivate.id)!;
      expect([row.priority, row.created_by]).toEqual([null, alice.id]);
    });

    it('admin updates any row; a user of another environment updates none here', async () => {
      const admin = await sb.secret.from('todos').update({ priority: 3 }).eq('id', rows.bobPrivate.id).select('priority');
      expect(admin.data).toEqual([{ priority: 3 }]);
      const adminUser = await sb.adminUser.from('todos').update({ done: true }).eq('id', rows.alicePrivate.id).select('done');
      expect(adminUser.data).toEqual([{ done: true }]);
      const carol = await sb.carol.from('todos').update({ title: 'carol was here' }).eq('id', rows.alicePublic.id).select();
      expect(carol.data).toEqual([]);
      expect(titles(await all())).not.toContain('carol was here');
    });
  });

  describe('column rules × callers (review additions)', () => {
    it('another user cannot write a self-only column of a row it can see; the author and an admin user can', async () => {
      const bob = await sb.bob.from('todos').update({ note: 'bob was here' }).eq('id', rows.alicePublic.id).select('note');
      expect([bob.error, bob.data]).toEqual([null, []]);
      const guest = await sb.guest.from('todos').update({ note: 'guest' }).eq('id', rows.alicePublic.id);
      expect([guest.status, guest.error?.code]).toEqual([403, '42501']);
      expect((await all()).find((r) => r.id === rows.alicePublic.id)!.note).toBe('alice public note');
      const admin = await sb.adminUser.from('todos').update({ note: 'moderated' }).eq('id', rows.alicePublic.id).select('note');
      expect(admin.data).toEqual([{ note: 'moderated' }]);
      const own = await sb.alice.from('todos').update({ note: 'mine again' }).eq('id', rows.alicePublic.id).select('note');
      expect(own.data).toEqual([{ note: 'mine again' }]);
    });

    it('an admin user inserts with admin-only columns, owns the row, and deletes a foreign row', async () => {
      const made = await sb.adminUser.from('todos').insert({ title: 'boss row', priority: 9, note: 'boss note' }).select('title,priority,note,created_by').single();
      expect([made.error, made.data]).toEqual([null, { title: 'boss row', priority: 9, note: 'boss note', created_by: boss.id }]);
      // Alice cannot see the admin's private row, nor its note.
      const seen = await sb.alice.from('todos').select('title').eq('title', 'boss row');
      expect(seen.data).toEqual([]);
      const gone = await sb.adminUser.from('todos').delete().eq('id', rows.bobPrivate.id).select('title');
      expect(gone.data).toEqual([{ title: 'b-private' }]);
      expect(titles(await all())).toEqual(['a-private', 'a-public', 'boss row']);
    });

    it('an exact count, a Range and an offset never reach beyond the rules', async () => {
      const page = await sb.bob.from('todos').select('title', { count: 'exact' }).order('title').range(0, 9);
      expect([page.error, page.count, page.data]).toEqual([null, 2, [{ title: 'a-public' }, { title: 'b-private' }]]);
      const far = await sb.bob.from('todos').select('title', { count: 'exact' }).order('title').range(1, 5);
      expect([far.count, far.data]).toEqual([2, [{ title: 'b-private' }]]);
      // Carol's own environment may hold her rows from other tests: none of them is one of these.
      const carol = await sb.carol.from('todos').select('title', { count: 'exact', head: true }).in('id', [rows.alicePublic.id, rows.alicePrivate.id, rows.bobPrivate.id]);
      expect([carol.error, carol.count]).toEqual([null, 0]);
    });
  });

  describe('delete', () => {
    it('guest cannot delete (403 42501), nothing is deleted', async () => {
      const { error, status } = await sb.guest.from('todos').delete().eq('id', rows.alicePublic.id);
      expect(status).toBe(403);
      expect(error?.code).toBe('42501');
      expect((await all()).length).toBe(3);
    });

    it('a user deletes its own row but not another user\'s', async () => {
      const foreign = await sb.bob.from('todos').delete().eq('id', rows.alicePublic.id).select();
      expect(foreign.error).toBeNull();
      expect(foreign.data).toEqual([]);
      const own = await sb.bob.from('todos').delete().eq('id', rows.bobPrivate.id).select('title');
      expect(own.data).toEqual([{ title: 'b-private' }]);
      expect(titles(await all())).toEqual(['a-private', 'a-public']);
    });

    it('a bulk delete with no filter removes only the caller\'s rows', async () => {
      const { error, count } = await sb.alice.from('todos').delete({ count: 'exact' }).neq('title', '');
      expect(error).toBeNull();
      expect(count).toBe(2);
      expect(titles(await all())).toEqual(['b-private']);
    });

    it('admin deletes any row; a user of another environment deletes none here', async () => {
      const carol = await sb.carol.from('todos').delete().eq('id', rows.alicePrivate.id).select();
      expect(carol.data).toEqual([]);
      expect((await all()).length).toBe(3);
      const admin = await sb.secret.from('todos').delete().eq('id', rows.alicePrivate.id).select('title');
      expect(admin.data).toEqual([{ title: 'a-private' }]);
      expect(titles(await all())).toEqual(['a-public', 'b-private']);
    });
  });
});

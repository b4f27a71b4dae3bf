// The change feed answers every subscriber exactly as the Data API would at that moment: rows it
// may not select never reach it (INSERT, UPDATE, DELETE), columns it may not read are left out or
// NULL, an UPDATE that hides a row sends no new value, filters and refusals behave as /rest/v1's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from '../data/fixtures.js';
import { GatehouseError } from '../../src/errors/index.js';
import type { Caller } from '../../src/access/index.js';
import { callerFor, collect, rest, settle, type Collector } from './setup.js';

type Row = Record<string, unknown>;

for (const engine of engines()) {
  describe(`row changes under the rules (${engine})`, () => {
    let gh: TestApp;
    let alice: TestUser;
    let bob: TestUser;
    const callers = {} as Record<'alice' | 'bob' | 'guest' | 'admin', Caller>;
    const as = (who: TestUser | null) => ({ apikey: gh.publishableKey, ...(who ? { token: who.accessToken } : {}) });
    let marker = 0;
    const settled = () => settle(gh, 'todos', gh.secretKey, { title: `marker-${marker++}` });

    beforeAll(async () => {
      gh = await startTestApp(engine, { env: generousLimitsEnv() });
      await applySchema(gh, gh.secretKey);
      alice = await createTestUser(gh);
      bob = await createTestUser(gh);
      callers.alice = await callerFor(gh, gh.publishableKey, alice.accessToken);
      callers.bob = await callerFor(gh, gh.publishableKey, bob.accessToken);
      callers.guest = await callerFor(gh, gh.publishableKey);
      callers.admin = await callerFor(gh, gh.secretKey);
    }, 60_000);
    afterAll(() => gh?.close());

    async function subscribeAll(spec: { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; filter?: string } = { event: '*' }) {
      const out = {} as Record<keyof typeof callers, Collector>;
      for (const name of Object.keys(callers) as Array<keyof typeof callers>) out[name] = await collect(gh, callers[name], { table: 'todos', ...spec });
      return out;
    }
    const unsubscribeAll = (subs: Record<string, Collector>) => Object.values(subs).forEach((s) => s.unsubscribe());
    /** The row as `who` reads it through the Data API right now (null if it may not). */
    async function readAs(who: TestUser | null, id: unknown): Promise<Row | null> {
      const res = await rest(gh, 'GET', `/rest/v1/todos?id=eq.${id}&select=*`, as(who));
      expect(res.status).toBe(200);
      return (res.body as Row[])[0] ?? null;
    }

    it('an INSERT reaches exactly who may select the row, with exactly the columns a read returns', async () => {
      const subs = await subscribeAll();
      try {
        const priv = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'alice private', note: 'alice secret' });
        const pub = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'alice public', public: true, note: 'alice public note' });
        expect(priv.status).toBe(201);
        expect(pub.status).toBe(201);
        const [privRow, pubRow] = [(priv.body as Row[])[0]!, (pub.body as Row[])[0]!];
        await settled();

        // Alice sees both, her note included.
        expect(subs.alice.events.map((e) => [e.type, e.record.title, e.record.note])).toEqual([
          ['INSERT', 'alice private', 'alice secret'], ['INSERT', 'alice public', 'alice public note'],
        ]);
        // Bob sees only the public row, the self-only note NULL (as his read shows it).
        expect(subs.bob.events.map((e) => e.record.id)).toEqual([pubRow.id]);
        expect(subs.bob.events[0]!.record.note).toBeNull();
        expect(JSON.stringify(subs.bob.events)).not.toMatch(/alice secret|alice public note|alice private/);
        // A guest sees the public row without the note column at all.
        expect(subs.guest.events.map((e) => e.record.id)).toEqual([pubRow.id]);
        expect(Object.keys(subs.guest.events[0]!.record)).not.toContain('note');
        expect(subs.guest.events[0]!.columns.map((c) => c.name)).not.toContain('note');
        // The secret key sees both rows (and the marker: it is admin).
        expect(subs.admin.events.map((e) => e.record.id).slice(0, 2)).toEqual([privRow.id, pubRow.id]);

        // Exactly what the Data API answers each of them for the same row.
        expect(subs.alice.events[0]!.record).toEqual(await readAs(alice, privRow.id));
        expect(subs.alice.events[1]!.record).toEqual(await readAs(alice, pubRow.id));
        expect(subs.bob.events[0]!.record).toEqual(await readAs(bob, pubRow.id));
        expect(subs.guest.events[0]!.record).toEqual(await readAs(null, pubRow.id));
        expect(await readAs(bob, privRow.id)).toBeNull();

        const payload = subs.bob.events[0]!;
        expect(payload).toMatchObject({ schema: 'public', table: 'todos', type: 'INSERT', old_record: {}, errors: null });
        expect(Number.isNaN(Date.parse(payload.commit_timestamp))).toBe(false);
        expect(payload.columns).toContainEqual({ name: 'done', type: 'bool' });
        expect(payload.columns).toContainEqual({ name: 'priority', type: 'int8' });
      } finally {
        unsubscribeAll(subs);
      }
    });

    it('an UPDATE that hides a row sends its former readers only its id, never a new value', async () => {
      const created = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'shared for now', public: true, note: 'n1' });
      const id = (created.body as Row[])[0]!.id;
      // A change committed just before subscribe() may still arrive after it (the bus is asynchronous): let it pass first.
      await settled();
      const subs = await subscribeAll();
      try {
        const hide = await rest(gh, 'PATCH', `/rest/v1/todos?id=eq.${id}`, as(alice), { public: false, title: 'now hidden', note: 'n2' });
        expect(hide.status).toBe(200);
        await settled();
        expect(subs.alice.events).toHaveLength(1);
        expect(subs.alice.events[0]).toMatchObject({ type: 'UPDATE', record: { id, title: 'now hidden', note: 'n2', public: false }, old_record: { id, title: 'shared for now', note: 'n1' } });
        for (const who of [subs.bob, subs.guest]) {
          expect(who.events).toHaveLength(1);
          expect(who.events[0]).toMatchObject({ type: 'DELETE', record: {}, old_record: { id } });
          expect(Object.keys(who.events[0]!.old_record)).toEqual(['id']);
          expect(JSON.stringify(who.events)).not.toContain('now hidden');
          expect(JSON.stringify(who.events)).not.toContain('n2');
        }

        // While hidden, updates reach nobody but Alice and admins.
        await rest(gh, 'PATCH', `/rest/v1/todos?id=eq.${id}`, as(alice), { title: 'still hidden' });
        // Shown again: an UPDATE for Bob with no old values (he could not see them).
        await rest(gh, 'PATCH', `/rest/v1/todos?id=eq.${id}`, as(alice), { public: true, title: 'visible again' });
        await settled();
        expect(subs.bob.events).toHaveLength(2);
        expect(subs.bob.events[1]).toMatchObject({ type: 'UPDATE', record: { id, title: 'visible again', note: null }, old_record: {} });
        expect(JSON.stringify(subs.bob.events)).not.toContain('still hidden');
        expect(subs.alice.events.map((e) => e.record.title)).toEqual(['now hidden', 'still hidden', 'visible again']);
      } finally {
        unsubscribeAll(subs);
      }
    });

    it('a DELETE is checked against the row as it was: only its readers hear of it, with their columns', async () => {
      const priv = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'private to delete', note: 'gone secret' });
      const pub = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'public to delete', public: true, note: 'gone public' });
      const [privId, pubId] = [(priv.body as Row[])[0]!.id, (pub.body as Row[])[0]!.id];
      await settled();
      const subs = await subscribeAll({ event: 'DELETE' });
      try {
        expect((await rest(gh, 'DELETE', `/rest/v1/todos?id=in.(${privId},${pubId})`, as(alice))).status).toBe(200);
        await settled();
        expect(subs.alice.events.map((e) => e.old_record.id).sort()).toEqual([privId, pubId].sort());
        expect(subs.alice.events.find((e) => e.old_record.id === privId)!.old_record.note).toBe('gone secret');
        expect(subs.bob.events.map((e) => e.old_record.id)).toEqual([pubId]);
        expect(subs.bob.events[0]!.old_record.note).toBeNull();
        expect(subs.bob.events[0]!.record).toEqual({});
        expect(subs.guest.events.map((e) => e.old_record.id)).toEqual([pubId]);
        expect(Object.keys(subs.guest.events[0]!.old_record)).not.toContain('note');
        expect(JSON.stringify([subs.bob.events, subs.guest.events])).not.toContain('gone secret');
      } finally {
        unsubscribeAll(subs);
      }
    });

    it('a write that rolls back publishes nothing', async () => {
      const subs = await subscribeAll();
      try {
        // Two rows inserted, then refused by .single() (406): the transaction rolls back after the rows were written.
        const two = await rest(gh, 'POST', '/rest/v1/todos', { ...as(alice), accept: 'application/vnd.pgrst.object+json' }, [{ title: 'rb 1', public: true }, { title: 'rb 2', public: true }]);
        expect(two.status).toBe(406);
        // An update whose new row fails the rules (Alice may not move a row out of her reach): 403, rolled back.
        const mine = await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'rb base', public: true });
        expect(mine.status).toBe(201);
        await settled();
        const before = subs.bob.events.length;
        const bad = await rest(gh, 'PATCH', `/rest/v1/todos?title=eq.rb%20base`, as(bob), { title: 'bob was here' });
        expect(bad.body).toEqual([]); // not Bob's row: nothing updated, nothing sent
        await settled();
        expect(subs.bob.events).toHaveLength(before);
        expect(JSON.stringify(Object.values(subs).map((s) => s.events))).not.toMatch(/rb 1|rb 2|bob was here/);
        expect((await rest(gh, 'GET', '/rest/v1/todos?title=like.rb*&select=title', { apikey: gh.secretKey })).body).toEqual([{ title: 'rb base' }]);
      } finally {
        unsubscribeAll(subs);
      }
    });

    it('filters: eq, neq, lt, lte, gt, gte and in, on what the subscriber may read', async () => {
      const filters: Record<string, string> = {
        eq: 'title=eq.f-b', neq: 'title=neq.f-b', lt: 'title=lt.f-b', lte: 'title=lte.f-b', gt: 'title=gt.f-b', gte: 'title=gte.f-b',
        in: 'title=in.(f-a,f-c)', bool: 'done=eq.true',
        // Bob may read `note` only on his own rows: on Alice's public row it is NULL to him, as in SQL, so it never matches.
        note: 'note=eq.n-a',
      };
      const subs: Record<string, Collector> = {};
      for (const [name, filter] of Object.entries(filters)) subs[name] = await collect(gh, callers.bob, { event: 'INSERT', table: 'todos', filter });
      const aliceNote = await collect(gh, callers.alice, { event: 'INSERT', table: 'todos', filter: 'note=eq.n-a' });
      try {
        for (const [title, done] of [['f-a', false], ['f-b', true], ['f-c', false]] as const) {
          expect((await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title, done, public: true, note: `n-${title.slice(2)}` })).status).toBe(201);
        }
        await settled();
        const titles = (c: Collector) => c.events.map((e) => e.record.title);
        expect(titles(subs.eq!)).toEqual(['f-b']);
        expect(titles(subs.neq!)).toEqual(['f-a', 'f-c']);
        expect(titles(subs.lt!)).toEqual(['f-a']);
        expect(titles(subs.lte!)).toEqual(['f-a', 'f-b']);
        expect(titles(subs.gt!)).toEqual(['f-c']);
        expect(titles(subs.gte!)).toEqual(['f-b', 'f-c']);
        expect(titles(subs.in!)).toEqual(['f-a', 'f-c']);
        expect(titles(subs.bool!)).toEqual(['f-b']);
        expect(titles(subs.note!)).toEqual([]);
        expect(titles(aliceNote)).toEqual(['f-a']);
        // The same answers as /rest/v1 with the same filter for the same caller.
        const viaRest = await rest(gh, 'GET', '/rest/v1/todos?title=in.(f-a,f-c)&select=title&order=title', as(bob));
        expect((viaRest.body as Row[]).map((r) => r.title)).toEqual(titles(subs.in!));
        expect((await rest(gh, 'GET', '/rest/v1/todos?note=eq.n-a&select=title', as(bob))).body).toEqual([]);
      } finally {
        unsubscribeAll(subs);
        aliceNote.unsubscribe();
      }
    });

    async function refusal(caller: Caller, spec: { event: any; table: string; filter?: string }): Promise<GatehouseError> {
      const sub = { environment: { projectId: caller.projectId, environment: caller.environment }, caller: () => caller, deliver: () => undefined };
      const error = await gh.deps.realtime.feed.subscribe(sub, spec).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(GatehouseError);
      return error as GatehouseError;
    }

    it('refusals: a filter on an unreadable column, bad filters, bad events, each a client error', async () => {
      const forbidden = await refusal(callers.guest, { event: '*', table: 'todos', filter: 'note=eq.x' });
      expect(forbidden.code).toBe('data_column_forbidden');
      for (const filter of ['nope=eq.x', 'title=like.x*', 'title=not.eq.x', 'title', '=eq.x', 'title=eq', 'priority=eq.abc', 'meta=eq.1', 'or=(title.eq.a)']) {
        const error = await refusal(callers.bob, { event: '*', table: 'todos', filter });
        expect(error.status, filter).toBeGreaterThanOrEqual(400);
        expect(error.status, filter).toBeLessThan(500);
      }
      const event = await refusal(callers.bob, { event: 'TRUNCATE', table: 'todos' });
      expect(event.code).toBe('validation_failed');
    });

    it('a table that does not exist and one the caller cannot read give the same error', async () => {
      // `lists`: select is admin or self, so a guest could never read a row of it.
      const unreadable = await refusal(callers.guest, { event: '*', table: 'lists' });
      const missing = await refusal(callers.guest, { event: '*', table: 'listz' });
      expect(unreadable.code).toBe('data_table_unknown');
      expect(missing.code).toBe(unreadable.code);
      expect(missing.status).toBe(unreadable.status);
      expect(unreadable.message.replace('lists', 'X')).toBe(missing.message.replace('listz', 'X'));
      // A key narrowed to other tables: the same error, even for a table it could otherwise read.
      const narrowed = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'dev', kind: 'publishable', name: 'lists only', scopes: ['data:lists:read'] });
      const narrowCaller = await callerFor(gh, narrowed.key, bob.accessToken);
      const outOfScope = await refusal(narrowCaller, { event: '*', table: 'todos' });
      expect(outOfScope.code).toBe('data_table_unknown');
      // Bob can read his own lists: subscribing works.
      const ok = await collect(gh, callers.bob, { event: '*', table: 'lists' });
      ok.unsubscribe();
    });

    it('the current caller decides at each change: a swapped caller is answered as the new one', async () => {
      let current = callers.bob;
      const events: unknown[] = [];
      const { unsubscribe } = await gh.deps.realtime.feed.subscribe({
        environment: { projectId: current.projectId, environment: current.environment }, caller: () => current, deliver: (p) => events.push(p),
      }, { event: 'INSERT', table: 'todos' });
      try {
        await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'swap 1' });
        await settled();
        expect(events).toHaveLength(0);
        current = callers.alice;
        await rest(gh, 'POST', '/rest/v1/todos', as(alice), { title: 'swap 2' });
        await settled();
        expect(events).toMatchObject([{ record: { title: 'swap 2', note: null } }]);
      } finally {
        unsubscribe();
      }
    });
  });
}

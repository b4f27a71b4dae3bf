import type { RealtimePostgresChangesPayload } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { inbox, RULED_TODOS, startRulesWorld, subscribed, type RulesWorld } from './socket-world.js';

// supabase.channel(…).on('postgres_changes', …) from the unmodified supabase-js over a real
// socket: each subscriber gets only the rows and columns its rules let it read.

const SCHEMA = {
  tables: {
    todos: RULED_TODOS,
    secrets: { columns: { value: { type: 'text' } }, rules: { select: ['admin'], insert: ['admin'], update: ['admin'], delete: ['admin'] } },
  },
};

type Change = RealtimePostgresChangesPayload<Record<string, unknown>>;

for (const engine of engines()) {
  describe(`postgres_changes over the socket (${engine})`, () => {
    let world: RulesWorld;

    async function write(method: 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: unknown) {
      const res = await world.gh.app.inject({
        method, url: `/rest/v1/${url}`, payload: payload as never,
        headers: { apikey: world.gh.publishableKey, authorization: `Bearer ${token}`, prefer: 'return=representation', ...(payload ? { 'content-type': 'application/json' } : {}) },
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.body ? (JSON.parse(res.body) as Record<string, unknown>[]) : [];
    }

    function listen(token: string | undefined, name: string, spec: { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; table: string; filter?: string }, isPrivate = true) {
      const box = inbox<Change>();
      const channel = world.client(world.gh.publishableKey, token).channel(name, { config: { private: isPrivate } })
        .on('postgres_changes' as never, { schema: 'public', ...spec } as never, (payload: Change) => box.push(payload));
      return { box, channel };
    }

    beforeAll(async () => { world = await startRulesWorld(engine, SCHEMA); });
    afterAll(async () => { await world?.close(); });

    it('inserts, updates and deletes reach each reader under the rules: B never sees A\'s private rows or unreadable columns', async () => {
      const a = listen(world.alice.accessToken, 'todos-a', { event: '*', table: 'todos' });
      const b = listen(world.bob.accessToken, 'todos-b', { event: '*', table: 'todos' });
      const g = listen(undefined, 'todos-guest', { event: '*', table: 'todos' }, false);
      for (const { channel } of [a, b, g]) expect((await subscribed(channel)).status).toBe('SUBSCRIBED');

      // Written right after SUBSCRIBED: no lost start.
      const [hidden] = await write('POST', 'todos', world.alice.accessToken, { title: 'private', note: 'mine' });
      const [shown] = await write('POST', 'todos', world.alice.accessToken, { title: 'shared', public: true, note: 'still mine' });
      await write('PATCH', `todos?id=eq.${hidden!.id}`, world.alice.accessToken, { done: true });
      await write('PATCH', `todos?id=eq.${shown!.id}`, world.alice.accessToken, { title: 'shared, then hidden', public: false });
      await write('DELETE', `todos?id=eq.${hidden!.id}`, world.alice.accessToken);
      // A last public row: once B and the guest have it, everything before it was handled.
      await write('POST', 'todos', world.alice.accessToken, { title: 'marker', public: true });

      const seenByA: Change[] = [];
      for (let i = 0; i < 6; i++) seenByA.push(await a.box.next());
      expect(seenByA.map((c) => c.eventType)).toEqual(['INSERT', 'INSERT', 'UPDATE', 'UPDATE', 'DELETE', 'INSERT']);
      expect(seenByA[0]!.new).toMatchObject({ title: 'private', note: 'mine' });
      expect(seenByA[0]!.table).toBe('todos');

      for (const other of [b, g]) {
        const first = await other.box.next();
        expect(first.eventType).toBe('INSERT');
        expect(first.new).toMatchObject({ title: 'shared', public: true });
        // As over /rest/v1: a cell of a column readable only by the row's owner is null for others.
        expect((first.new as Record<string, unknown>).note ?? null).toBeNull();
        expect(first.new).not.toHaveProperty('internal');
        expect(JSON.stringify(first)).not.toContain('still mine');
        let last = first;
        while ((last.new as { title?: string }).title !== 'marker') {
          last = await other.box.next();
          const text = JSON.stringify(last);
          expect(text).not.toContain('private');
          expect(text).not.toContain('mine');
          expect(text).not.toContain('then hidden');
        }
      }
    });

    it('a filter narrows the events; a filter on a column the caller cannot read is refused', async () => {
      const done = listen(world.alice.accessToken, 'todos-done', { event: 'INSERT', table: 'todos', filter: 'done=eq.true' });
      expect((await subscribed(done.channel)).status).toBe('SUBSCRIBED');
      await write('POST', 'todos', world.alice.accessToken, { title: 'open one' });
      await write('POST', 'todos', world.alice.accessToken, { title: 'done one', done: true });
      expect((await done.box.next()).new).toMatchObject({ title: 'done one' });
      expect(done.box.items).toHaveLength(1);

      const peek = listen(world.bob.accessToken, 'todos-peek', { event: '*', table: 'todos', filter: 'internal=eq.x' });
      const refused = await subscribed(peek.channel);
      expect(refused.status).toBe('CHANNEL_ERROR');
    });

    it('a table that does not exist and one the caller cannot read get the same error (no oracle)', async () => {
      const missing = await subscribed(listen(world.bob.accessToken, 'nope-1', { event: '*', table: 'no_such_table' }).channel);
      const unreadable = await subscribed(listen(world.bob.accessToken, 'nope-2', { event: '*', table: 'secrets' }).channel);
      expect(missing.status).toBe('CHANNEL_ERROR');
      expect(unreadable.status).toBe('CHANNEL_ERROR');
      // The message names the table asked for, and says nothing else about it.
      expect(unreadable.error?.message.replace('secrets', 'T')).toBe(missing.error?.message.replace('no_such_table', 'T'));
    });

    it('guests receive only what guests may read', async () => {
      const g = listen(undefined, 'guest-only', { event: 'INSERT', table: 'todos' }, false);
      expect((await subscribed(g.channel)).status).toBe('SUBSCRIBED');
      await write('POST', 'todos', world.bob.accessToken, { title: 'bob private' });
      await write('POST', 'todos', world.bob.accessToken, { title: 'bob public', public: true, note: 'bob note' });
      const got = await g.box.next();
      expect(got.new).toMatchObject({ title: 'bob public' });
      expect((got.new as Record<string, unknown>).note ?? null).toBeNull();
      expect(JSON.stringify(got)).not.toContain('bob note');
      expect(g.box.items).toHaveLength(1);
    });
  });
}

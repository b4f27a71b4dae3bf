import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { inbox, sleep, startRealtimeWorld, subscribed, type RealtimeWorld } from './socket-world.js';

for (const engine of engines()) {
  describe(`realtime broadcast and presence with supabase-js (${engine})`, () => {
    let world: RealtimeWorld;
    beforeAll(async () => { world = await startRealtimeWorld(engine); });
    afterAll(async () => { await world?.close(); });

    /** supabase-js clients of two new users (each test its own, so no test meets another's channels). */
    async function twoSignedIn() {
      const [alice, bob] = [await world.user(), await world.user()];
      return [world.client(world.gh.publishableKey, alice.accessToken), world.client(world.gh.publishableKey, bob.accessToken)] as const;
    }

    it('two clients on a private channel: broadcast reaches the other, not the sender (self: false)', async () => {
      const [a, b] = await twoSignedIn();
      const got = inbox<unknown>();
      const own = inbox<unknown>();
      const chA = a.channel('room:1', { config: { private: true } }).on('broadcast', { event: 'msg' }, (m) => own.push(m.payload));
      const chB = b.channel('room:1', { config: { private: true } }).on('broadcast', { event: 'msg' }, (m) => got.push(m.payload));
      expect((await subscribed(chA)).status).toBe('SUBSCRIBED');
      expect((await subscribed(chB)).status).toBe('SUBSCRIBED');
      expect(await chA.send({ type: 'broadcast', event: 'msg', payload: { text: 'hi' } })).toBe('ok');
      expect(await got.next()).toEqual({ text: 'hi' });
      await sleep(200);
      expect(own.items).toEqual([]);
    });

    it('a binary broadcast (realtime-js v2 binary frame, raw bytes) arrives as bytes', async () => {
      const [a, b] = await twoSignedIn();
      const got = inbox<unknown>();
      const chA = a.channel('bytes', { config: { private: true, broadcast: { ack: true } } });
      const chB = b.channel('bytes', { config: { private: true } }).on('broadcast', { event: 'blob' }, (m) => got.push(m.payload));
      expect((await subscribed(chA)).status).toBe('SUBSCRIBED');
      expect((await subscribed(chB)).status).toBe('SUBSCRIBED');
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      expect(await chA.send({ type: 'broadcast', event: 'blob', payload: bytes.buffer })).toBe('ok');
      const received = await got.next();
      expect(new Uint8Array(received as ArrayBuffer)).toEqual(bytes);
    });

    it('presence: a tracked client appears in the other client\'s state and leaves it on untrack', async () => {
      const [a, b] = await twoSignedIn();
      const joins = inbox<unknown>();
      const leaves = inbox<unknown>();
      const chA = a.channel('lobby', { config: { private: true, presence: { key: 'alice' } } });
      const chB = b.channel('lobby', { config: { private: true, presence: { key: 'bob' } } })
        .on('presence', { event: 'join' }, ({ key, newPresences }) => joins.push({ key, newPresences }))
        .on('presence', { event: 'leave' }, ({ key }) => leaves.push(key));
      expect((await subscribed(chB)).status).toBe('SUBSCRIBED');
      expect((await subscribed(chA)).status).toBe('SUBSCRIBED');
      expect(await chA.track({ online_at: 'now' })).toBe('ok');
      const join = await joins.next() as { key: string; newPresences: { online_at: string }[] };
      expect(join.key).toBe('alice');
      expect(join.newPresences[0]!.online_at).toBe('now');
      expect(Object.keys(chB.presenceState())).toEqual(['alice']);
      expect(await chA.untrack()).toBe('ok');
      expect(await leaves.next()).toBe('alice');
      expect(chB.presenceState()).toEqual({});
    });
  });
}

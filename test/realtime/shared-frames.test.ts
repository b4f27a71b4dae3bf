// A frame is encoded once and shared by the sockets that would get the same bytes
// (src/realtime/socket/shared-frames.ts). For changes, every socket here sends the same join_ref,
// topic and binding, so the per-socket head of the frame is the same for all of them: only the
// payload (which columns, whose row) tells their frames apart, and each must still get its own.
// For broadcasts and presence diffs, the parts that differ per socket must still differ.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { rawSocket, RULED_TODOS, startRulesWorld, type RulesWorld } from './socket-world.js';

const SCHEMA = { tables: { todos: RULED_TODOS } };

type Row = Record<string, unknown>;

/** A raw socket joined to realtime:room with one INSERT binding on todos; collects change payloads. */
async function join(url: string, key: string, vsn: '1.0.0' | '2.0.0', token?: string) {
  const frames: Array<{ ids: number[]; data: { record: Row; columns: Array<{ name: string }> } }> = [];
  const raw: string[] = [];
  const binary: Buffer[] = [];
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${key}&vsn=${vsn}`);
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const joined = new Promise<void>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) binary.push(data as Buffer);
      const text = String(data);
      const parsed = JSON.parse(text) as unknown;
      const [joinRef, ref, topic, event, payload] = Array.isArray(parsed)
        ? parsed
        : ['join_ref', 'ref', 'topic', 'event', 'payload'].map((k) => (parsed as Record<string, unknown>)[k]);
      if (ref === 'j1' && event === 'phx_reply') {
        if ((payload as { status: string }).status === 'ok') resolve();
        else reject(new Error(JSON.stringify(payload)));
      }
      if (event === 'postgres_changes') {
        expect([joinRef, topic]).toEqual(['1', 'realtime:room']);
        raw.push(text);
        frames.push(payload as (typeof frames)[number]);
      }
    });
  });
  const config = { private: false, postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'todos' }] };
  const payload = { config, ...(token ? { access_token: token } : {}) };
  ws.send(JSON.stringify(vsn === '2.0.0'
    ? ['1', 'j1', 'realtime:room', 'phx_join', payload]
    : { join_ref: '1', ref: 'j1', topic: 'realtime:room', event: 'phx_join', payload }));
  await joined;
  return { ws, frames, raw, binary };
}

for (const engine of engines()) {
  describe(`shared frames (${engine})`, () => {
    let world: RulesWorld;

    beforeAll(async () => { world = await startRulesWorld(engine, SCHEMA); });
    afterAll(async () => { await world?.close(); });

    it('sockets with the same frame head and different masks each get their own columns, never another\'s', async () => {
      const { url, secretKey, publishableKey } = world.gh;
      const sockets = {
        admin: await join(url, secretKey, '2.0.0'),
        adminV1: await join(url, secretKey, '1.0.0'),
        alice: await join(url, publishableKey, '2.0.0', world.alice.accessToken),
        bob: await join(url, publishableKey, '2.0.0', world.bob.accessToken),
        guest: await join(url, publishableKey, '2.0.0'),
        guest2: await join(url, publishableKey, '2.0.0'),
      };
      try {
        const res = await world.gh.app.inject({
          method: 'POST', url: '/rest/v1/todos', payload: { title: 'shared', public: true, note: 'alice note' },
          headers: { apikey: publishableKey, authorization: `Bearer ${world.alice.accessToken}`, prefer: 'return=representation', 'content-type': 'application/json' },
        });
        expect(res.statusCode, res.body).toBe(201);
        const row = (JSON.parse(res.body) as Row[])[0]!;
        const deadline = Date.now() + 5_000;
        while (Object.values(sockets).some((s) => s.frames.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

        const records = Object.fromEntries(Object.entries(sockets).map(([who, s]) => {
          expect(s.frames, who).toHaveLength(1);
          expect(s.frames[0]!.ids).toEqual([1]);
          return [who, s.frames[0]!.data.record];
        })) as Record<keyof typeof sockets, Row>;
        // The admin key reads every column, the internal one included; so does its vsn 1.0.0 socket, in object frames.
        expect(records.admin).toMatchObject({ id: row.id, note: 'alice note', internal: null });
        expect(records.adminV1).toEqual(records.admin);
        expect(sockets.adminV1.raw[0]!.startsWith('{"join_ref":"1"')).toBe(true);
        expect(sockets.admin.raw[0]!.startsWith('["1",null,')).toBe(true);
        // Alice reads her own note, not the admin column.
        expect(records.alice).toMatchObject({ id: row.id, note: 'alice note' });
        expect(Object.keys(records.alice)).not.toContain('internal');
        // Bob: the note column is his to read on his own rows only, NULL on hers.
        expect(records.bob).toMatchObject({ id: row.id, note: null });
        expect(Object.keys(records.bob)).not.toContain('internal');
        expect(sockets.bob.raw[0]).not.toContain('alice note');
        // Guests: no note column at all, and both guests get the same frame.
        expect(Object.keys(records.guest)).not.toContain('note');
        expect(Object.keys(records.guest)).not.toContain('internal');
        expect(sockets.guest.raw[0]).not.toContain('alice note');
        expect(sockets.guest2.raw).toEqual(sockets.guest.raw);
        // realtime-js decodes binary frames as its binary protocol: JSON frames must arrive as text.
        for (const s of Object.values(sockets)) expect(s.binary).toEqual([]);
        expect(sockets.guest.frames[0]!.data.columns.map((c) => c.name)).not.toContain('note');
      } finally {
        for (const s of Object.values(sockets)) s.ws.close();
      }
    });

    it('broadcasts and presence diffs shared by a channel\'s members: text stays text, and each diff carries its socket\'s own join_ref', async () => {
      const url = `${world.gh.url}/realtime/v1/websocket?apikey=${world.gh.publishableKey}`;
      const [a, b, sender] = await Promise.all([rawSocket(url), rawSocket(url), rawSocket(url)]);
      try {
        for (const [socket, joinRef] of [[a, 'a1'], [b, 'b1'], [sender, 's1']] as const) {
          socket.push(joinRef, `${joinRef}j`, 'realtime:lobby', 'phx_join', { config: { private: false, broadcast: { self: false }, presence: { enabled: true, key: joinRef } } });
          expect((await socket.reply(`${joinRef}j`)).status).toBe('ok');
        }
        sender.push('s1', 'r1', 'realtime:lobby', 'broadcast', { type: 'broadcast', event: 'hi', payload: { n: 1 } });
        for (const socket of [a, b]) {
          expect(await socket.next((f) => f[3] === 'broadcast')).toEqual([null, null, 'realtime:lobby', 'broadcast', { type: 'broadcast', event: 'hi', payload: { n: 1 } }]);
        }
        sender.push('s1', 't1', 'realtime:lobby', 'presence', { type: 'presence', event: 'track', payload: { online: true } });
        for (const [socket, joinRef] of [[a, 'a1'], [b, 'b1']] as const) {
          const diff = await socket.next((f) => f[3] === 'presence_diff' && Object.keys((f[4] as { joins: object }).joins).includes('s1'));
          expect(diff[0]).toBe(joinRef);
        }
      } finally {
        for (const socket of [a, b, sender]) socket.ws.close();
      }
    });
  });
}

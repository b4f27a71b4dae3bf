import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { rawSocket, startRealtimeWorld, type RawSocket, type RealtimeWorld } from './socket-world.js';

// Every refusal of the socket, with a plain `ws` client sending what supabase-js never would.
// Each ends in a Phoenix error reply or a close with a reason, and the server keeps serving.

for (const engine of engines()) {
  describe(`realtime socket refusals (${engine})`, () => {
    let world: RealtimeWorld;
    let alice: TestUser;
    let bob: TestUser;
    const wsUrl = (key: string) => `${world.gh.url}/realtime/v1/websocket?apikey=${encodeURIComponent(key)}`;
    const open = (key = world.gh.publishableKey, vsn?: string) => rawSocket(wsUrl(key), { vsn });
    const join = async (s: RawSocket, topic: string, payload: Record<string, unknown>, ref = String(Math.random())) => {
      s.push(ref, ref, topic, 'phx_join', payload);
      return s.reply(ref);
    };

    beforeAll(async () => {
      world = await startRealtimeWorld(engine, {
        env: { GATEHOUSE_REALTIME_MAX_PAYLOAD_BYTES: '4096', GATEHOUSE_REALTIME_EVENTS_PER_SECOND: '20', GATEHOUSE_REALTIME_CHANNELS_PER_CONNECTION: '3', GATEHOUSE_REALTIME_CONNECTIONS_PER_ADDRESS: '12' },
      });
      [alice, bob] = [await world.user(), await world.user()];
    });
    afterAll(async () => { await world?.close(); });

    it('an upgrade without a key, with a bad key or from an origin the environment does not allow is refused with an HTTP error', async () => {
      await expect(rawSocket(`${world.gh.url}/realtime/v1/websocket`)).rejects.toMatchObject({ status: 401 });
      await expect(open('sb_publishable_notakey')).rejects.toMatchObject({ status: 401 });
      await expect(rawSocket(wsUrl(world.gh.publishableKey), { headers: { Origin: 'https://evil.example' } })).rejects.toMatchObject({ status: 403 });
      await expect(rawSocket(wsUrl(world.gh.publishableKey), { vsn: '3.0.0' })).rejects.toMatchObject({ status: 400 });
    });

    it('heartbeat is answered; a malformed frame gets a phx_error and the socket keeps working', async () => {
      const s = await open();
      s.push(null, '1', 'phoenix', 'heartbeat', {});
      expect((await s.reply('1')).status).toBe('ok');
      s.ws.send('{not json');
      expect((await s.next((f) => f[3] === 'phx_error'))[4]).toMatchObject({ reason: expect.stringContaining('not JSON') });
      s.ws.send(JSON.stringify({ topic: 'x', event: 'y' }));
      expect((await s.next((f) => f[3] === 'phx_error'))[4]).toMatchObject({ reason: expect.stringContaining('[join_ref, ref, topic, event, payload]') });
      s.ws.send(Buffer.from([9, 9, 9]));
      expect((await s.next((f) => f[3] === 'phx_error'))[4]).toMatchObject({ reason: expect.stringContaining('binary') });
      s.push(null, '2', 'phoenix', 'heartbeat', {});
      expect((await s.reply('2')).status).toBe('ok');
      s.ws.close();
    });

    it('unknown events and topics that were not joined get an error reply', async () => {
      const s = await open();
      s.push(null, '1', 'phoenix', 'nope', {});
      expect(await s.reply('1')).toEqual({ status: 'error', response: { reason: 'unknown event' } });
      s.push(null, '2', 'realtime:never-joined', 'broadcast', { type: 'broadcast', event: 'x', payload: {} });
      expect(await s.reply('2')).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
      await world.settings({ public_channels: true });
      expect((await join(s, 'realtime:pub', {}, 'j')).status).toBe('ok');
      s.push('j', '3', 'realtime:pub', 'whatever', {});
      expect(await s.reply('3')).toEqual({ status: 'error', response: { reason: 'unknown event' } });
      s.push('j', '4', 'realtime:pub', 'broadcast', { type: 'broadcast' });
      expect((await s.reply('4')).status).toBe('error');
      s.ws.close();
      await world.settings({ public_channels: false });
    });

    it('public channels are refused until an admin opens them', async () => {
      const s = await open();
      const refused = await join(s, 'realtime:open-room', { config: {} });
      expect(refused.status).toBe('error');
      expect(String(refused.response.reason)).toContain('public channels are disabled');
      await world.settings({ public_channels: true });
      expect((await join(s, 'realtime:open-room', { config: {} })).status).toBe('ok');
      await world.settings({ public_channels: false });
      s.ws.close();
    });

    it('a private channel refuses a guest by default, and a bad topic or config', async () => {
      const s = await open();
      expect((await join(s, 'realtime:secret', { config: { private: true } })).response.reason).toContain('Unauthorized');
      expect((await join(s, 'room-without-prefix', { config: { private: true } })).status).toBe('error');
      expect((await join(s, `realtime:${'x'.repeat(201)}`, { config: { private: true } })).status).toBe('error');
      expect((await join(s, 'realtime:a', { config: { private: 'yes' } })).response.reason).toContain('config.private');
      expect((await join(s, 'realtime:a', { config: [] })).response.reason).toContain('config');
      expect((await join(s, 'realtime:a', { config: { private: true }, access_token: 'not.a.jwt' })).response.reason).toBe('Invalid token');
      expect((await join(s, 'realtime:a', { config: { private: true }, access_token: 42 })).status).toBe('error');
      s.ws.close();
    });

    it('rules per channel pattern: only the named user joins their own channel; send can be narrower than join', async () => {
      await world.settings({
        public_channels: false,
        rules: [
          { pattern: 'user:*', join: ['segment[1] == auth.uid'], send: ['segment[1] == auth.uid'] },
          { pattern: 'announcements', join: ['user'], send: ['admin'] },
        ],
      });
      const s = await open();
      expect((await join(s, `realtime:user:${alice.id}`, { config: { private: true }, access_token: alice.accessToken })).status).toBe('ok');
      const other = await join(s, `realtime:user:${bob.id}`, { config: { private: true }, access_token: alice.accessToken });
      expect(other.status).toBe('error');
      expect(String(other.response.reason)).toContain('Unauthorized');
      expect((await join(s, 'realtime:announcements', { config: { private: true, broadcast: { ack: true } }, access_token: alice.accessToken }, 'an')).status).toBe('ok');
      s.push('an', 'send1', 'realtime:announcements', 'broadcast', { type: 'broadcast', event: 'news', payload: {} });
      expect((await s.reply('send1')).response.reason).toContain('may not send');
      s.ws.close();
      await world.settings({ public_channels: false, rules: [] });
    });

    it('the admin route refuses a bad rule (400), a publishable key (401/403), and audits a change', async () => {
      const bad = await world.gh.app.inject({ method: 'PUT', url: '/admin/v1/realtime', headers: { apikey: world.gh.secretKey }, payload: { public_channels: false, rules: [{ pattern: 'a', join: ['owner == auth.uid'] }] } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toContain('unknown name owner');
      const selfRule = await world.gh.app.inject({ method: 'PUT', url: '/admin/v1/realtime', headers: { apikey: world.gh.secretKey }, payload: { public_channels: false, rules: [{ pattern: 'a', join: ['self'] }] } });
      expect(selfRule.statusCode).toBe(400);
      const asUser = await world.gh.app.inject({ method: 'PUT', url: '/admin/v1/realtime', headers: { apikey: world.gh.publishableKey, authorization: `Bearer ${alice.accessToken}` }, payload: { public_channels: true, rules: [] } });
      expect(asUser.statusCode).toBe(403);
      const guest = await world.gh.app.inject({ method: 'GET', url: '/admin/v1/realtime', headers: { apikey: world.gh.publishableKey } });
      expect([401, 403]).toContain(guest.statusCode);
      await world.settings({ public_channels: false, rules: [{ pattern: 'x:*', track: ['admin'] }] });
      const audit = await world.gh.app.inject({ method: 'GET', url: '/admin/v1/audit-log', headers: { apikey: world.gh.secretKey } });
      expect(audit.body).toContain('realtime.channels.update');
      const got = await world.gh.app.inject({ method: 'GET', url: '/admin/v1/realtime', headers: { apikey: world.gh.secretKey } });
      expect(got.json()).toEqual({ public_channels: false, rules: [{ pattern: 'x:*', track: ['admin'] }] });
      await world.settings({ public_channels: false, rules: [] });
    });

    it('an oversize frame closes the socket (1009); other sockets are unaffected', async () => {
      const bystander = await open();
      const s = await open();
      s.push(null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(5000) });
      expect((await s.closed).code).toBe(1009);
      bystander.push(null, '1', 'phoenix', 'heartbeat', {});
      expect((await bystander.reply('1')).status).toBe('ok');
      bystander.ws.close();
    });

    it('a flood is refused past eventsPerSecond and closed past twice it (1008)', async () => {
      const s = await open();
      for (let i = 0; i < 60; i++) s.push(null, `f${i}`, 'phoenix', 'heartbeat', {});
      expect((await s.next((f) => f[3] === 'phx_error'))[4]).toMatchObject({ reason: expect.stringContaining('rate limit') });
      const closed = await s.closed;
      expect(closed).toEqual({ code: 1008, reason: 'too many events' });
    });

    it('channels per connection are capped', async () => {
      const s = await open();
      for (const n of [1, 2, 3]) expect((await join(s, `realtime:c${n}`, { config: { private: true }, access_token: alice.accessToken })).status).toBe('ok');
      expect((await join(s, 'realtime:c4', { config: { private: true }, access_token: alice.accessToken })).response.reason).toContain('too many channels');
      s.ws.close();
    });

    it('postgres_changes entries that are malformed are refused', async () => {
      const s = await open();
      const base = { private: true };
      for (const entry of [{ event: 'TRUNCATE', table: 'notes' }, { event: 'INSERT', schema: 'private', table: 'notes' }, { event: 'INSERT' }, { event: 'INSERT', table: 'notes', filter: 5 }, 'notes']) {
        expect((await join(s, 'realtime:pg', { config: { ...base, postgres_changes: [entry] }, access_token: alice.accessToken })).status).toBe('error');
      }
      s.ws.close();
    });

    it('connections per address are capped with a 429 before the upgrade', async () => {
      const sockets: RawSocket[] = [];
      let refused: unknown;
      for (let i = 0; i < 13 && !refused; i++) {
        try {
          sockets.push(await open());
        } catch (error) {
          refused = error;
        }
      }
      expect(refused).toMatchObject({ status: 429 });
      for (const s of sockets) s.ws.close();
      await Promise.all(sockets.map((s) => s.closed));
      // Closed sockets give their place back.
      const again = await open();
      again.ws.close();
      await again.closed;
    });

    it('speaks vsn 1.0.0 object frames too', async () => {
      const s = await open(world.gh.publishableKey, '1.0.0');
      s.ws.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '7' }));
      const reply = await new Promise<unknown>((resolve) => s.ws.once('message', (d) => resolve(JSON.parse(String(d)))));
      expect(reply).toEqual({ join_ref: null, ref: '7', topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} } });
      s.ws.close();
    });
  });
}

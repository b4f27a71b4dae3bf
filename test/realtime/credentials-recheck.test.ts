import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { engines } from '../harness/engines.js';
import { rawSocket, sleep, startRealtimeWorld, type RealtimeWorld } from './socket-world.js';

// The periodic recheck sees what changed since the upgrade: a revoked API key closes its open
// sockets, and a user who authenticated with `Authorization: Bearer` on the upgrade keeps its channels.

const RECHECK_MS = 1_000;

for (const engine of engines()) {
  describe(`realtime credentials recheck (${engine})`, () => {
    let world: RealtimeWorld;
    const wsUrl = (key: string) => `${world.gh.url}/realtime/v1/websocket?apikey=${encodeURIComponent(key)}`;

    beforeAll(async () => {
      world = await startRealtimeWorld(engine, { env: { GATEHOUSE_REALTIME_TOKEN_RECHECK_MS: String(RECHECK_MS), GATEHOUSE_REALTIME_CONNECTIONS_PER_USER: '3' } });
    });
    afterAll(async () => { await world?.close(); });

    async function newKey(): Promise<{ id: string; key: string }> {
      const res = await world.gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: world.gh.secretKey }, payload: { kind: 'publishable', name: `rt-${Math.random()}` } });
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string; key: string };
    }

    it('a revoked API key closes its open sockets (1008) within the recheck; another key\'s socket stays', async () => {
      const { id, key } = await newKey();
      const user = await world.user();
      const doomed = await rawSocket(wsUrl(key));
      doomed.push('j', 'j', 'realtime:revoked-key', 'phx_join', { config: { private: true }, access_token: user.accessToken });
      expect((await doomed.reply('j')).status).toBe('ok');
      const other = await rawSocket(wsUrl(world.gh.publishableKey));
      const revoked = await world.gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${id}/revoke`, headers: { apikey: world.gh.secretKey } });
      expect(revoked.statusCode).toBe(200);
      const closed = await Promise.race([doomed.closed, sleep(RECHECK_MS * 4).then(() => null)]);
      expect(closed).toMatchObject({ code: 1008 });
      other.push(null, 'hb', 'phoenix', 'heartbeat', {});
      expect((await other.reply('hb')).status).toBe('ok');
      other.ws.close();
    });

    it('a recheck verifies each API key once for all the sockets that carry it, not once per socket', async () => {
      const { key } = await newKey();
      const sockets = await Promise.all(Array.from({ length: 12 }, () => rawSocket(wsUrl(key))));
      const verify = vi.spyOn(world.gh.deps.apiKeys, 'verify');
      try {
        await sleep(RECHECK_MS * 2.5);
        const rounds = verify.mock.calls.filter(([presented]) => presented === key).length;
        // Two or three rounds passed: as many verifications, where one per socket would be 24 or more.
        expect(rounds).toBeGreaterThanOrEqual(1);
        expect(rounds).toBeLessThanOrEqual(3);
      } finally {
        verify.mockRestore();
        for (const s of sockets) s.ws.close();
      }
    });

    it('a user signed in with Authorization: Bearer on the upgrade keeps its channel across rechecks, and loses it on sign-out', async () => {
      const user = await world.user();
      const s = await rawSocket(wsUrl(world.gh.publishableKey), { headers: { Authorization: `Bearer ${user.accessToken}` } });
      s.push('j', 'j', 'realtime:bearer-room', 'phx_join', { config: { private: true } });
      expect((await s.reply('j')).status).toBe('ok');
      // Several rechecks pass: the channel is still there (no system error, heartbeat answered).
      await sleep(RECHECK_MS * 2.5);
      await expect(s.next((f) => f[3] === 'system', 10)).rejects.toThrow();
      s.push('j', 'b1', 'realtime:bearer-room', 'broadcast', { type: 'broadcast', event: 'x', payload: {} });
      expect((await s.reply('b1')).status).toBe('ok');
      const out = await world.gh.app.inject({ method: 'POST', url: '/auth/v1/logout', headers: { apikey: world.gh.publishableKey, authorization: `Bearer ${user.accessToken}` } });
      expect(out.statusCode).toBeLessThan(300);
      const system = await s.next((f) => f[3] === 'system', RECHECK_MS * 4);
      expect(system[4]).toMatchObject({ status: 'error' });
      s.ws.close();
    });

    it('refreshing a channel\'s token many times holds one slot of the per-user limit: after close the user connects up to the limit', async () => {
      const user = await world.user();
      const s = await rawSocket(wsUrl(world.gh.publishableKey));
      s.push('j', 'j', 'realtime:refresh-room', 'phx_join', { config: { private: true }, access_token: user.accessToken });
      expect((await s.reply('j')).status).toBe('ok');
      for (let i = 0; i < 6; i++) {
        s.push('j', `t${i}`, 'realtime:refresh-room', 'access_token', { access_token: user.accessToken });
        expect((await s.reply(`t${i}`)).status).toBe('ok');
      }
      s.ws.close();
      await s.closed;
      await sleep(200);
      // GATEHOUSE_REALTIME_CONNECTIONS_PER_USER is 3: all three connect, a fourth is refused.
      const sockets = await Promise.all([0, 1, 2, 3].map(() => rawSocket(wsUrl(world.gh.publishableKey))));
      const statuses: string[] = [];
      for (const [i, socket] of sockets.entries()) {
        socket.push('j', `j${i}`, 'realtime:refresh-room', 'phx_join', { config: { private: true }, access_token: user.accessToken });
        statuses.push((await socket.reply(`j${i}`)).status);
      }
      expect(statuses).toEqual(['ok', 'ok', 'ok', 'error']);
      for (const socket of sockets) socket.ws.close();
    });

    it('a socket that sends frames faster than they are handled is closed (1008) past 64 pending, not queued without end', async () => {
      const s = await rawSocket(wsUrl(world.gh.publishableKey));
      // One TCP write of 90 heartbeats: the server reads them in one go, before any is handled.
      const tcp = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      tcp.cork();
      for (let i = 0; i < 90; i++) s.push(null, `h${i}`, 'phoenix', 'heartbeat', {});
      tcp.uncork();
      const closed = await Promise.race([s.closed, sleep(5_000).then(() => null)]);
      expect(closed).toEqual({ code: 1008, reason: 'too many pending frames' });
    });
  });
}


import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { inbox, sleep, startRealtimeWorld, subscribed, type RealtimeWorld } from './socket-world.js';

// Tokens on the socket: a channel lives as long as its token (expiry, revocation) unless the client
// sends a fresh one (supabase.realtime.setAuth → access_token); and the REST broadcast fallback.

const TTL_S = 3;

for (const engine of engines()) {
  describe(`realtime tokens and REST broadcast (${engine})`, () => {
    let world: RealtimeWorld;
    beforeAll(async () => {
      world = await startRealtimeWorld(engine, { env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: String(TTL_S), GATEHOUSE_REALTIME_TOKEN_RECHECK_MS: '1000' } });
    });
    afterAll(async () => { await world?.close(); });

    async function freshToken(email: string, password: string): Promise<string> {
      const res = await world.gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: world.gh.publishableKey }, remoteAddress: '198.18.7.7', payload: { email, password } });
      return (res.json() as { access_token: string }).access_token;
    }

    it('an expired token closes the channel with a system error; a token refreshed in time keeps it', async () => {
      const [stale, fresh] = [await world.user(), await world.user()];
      const a = world.client(world.gh.publishableKey, stale.accessToken);
      const b = world.client(world.gh.publishableKey, fresh.accessToken);
      const systemA = inbox<{ status?: string; message?: string }>();
      const statusA = inbox<string>();
      const chA = a.channel('expiry', { config: { private: true } }).on('system', {}, (m) => systemA.push(m));
      const chB = b.channel('expiry', { config: { private: true } }).on('broadcast', { event: 'ping' }, () => {});
      const gotB = inbox<unknown>();
      chB.on('broadcast', { event: 'ping' }, (m) => gotB.push(m.payload));
      chA.subscribe((status) => statusA.push(status));
      expect(await statusA.next()).toBe('SUBSCRIBED');
      expect((await subscribed(chB)).status).toBe('SUBSCRIBED');
      // B refreshes before its token expires; A does not.
      await sleep(1_000);
      await b.realtime.setAuth(await freshToken(fresh.email, fresh.password));
      const error = await systemA.next((TTL_S + 2) * 1000);
      expect(error).toMatchObject({ status: 'error', message: 'Token has expired' });
      expect(await statusA.next()).toBe('CLOSED');
      await sleep(500);
      expect(chB.state).toBe('joined');
      // B still hears broadcasts, sent over REST with the secret key (the server side of an app).
      const sent = await fetch(`${world.gh.url}/realtime/v1/api/broadcast`, {
        method: 'POST', headers: { apikey: world.gh.secretKey, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ topic: 'expiry', event: 'ping', payload: { n: 1 }, private: true }] }),
      });
      expect(sent.status).toBe(202);
      expect(await gotB.next()).toEqual({ n: 1 });
    }, 20_000);

    it('a revoked session (sign-out) ends its channels within the recheck', async () => {
      const user = await world.user();
      const c = world.client(world.gh.publishableKey, user.accessToken);
      const system = inbox<{ status?: string; message?: string }>();
      const ch = c.channel('revoked', { config: { private: true } }).on('system', {}, (m) => system.push(m));
      expect((await subscribed(ch)).status).toBe('SUBSCRIBED');
      const out = await world.gh.app.inject({ method: 'POST', url: '/auth/v1/logout', headers: { apikey: world.gh.publishableKey, authorization: `Bearer ${user.accessToken}` } });
      expect(out.statusCode).toBeLessThan(300);
      expect(await system.next(4_000)).toMatchObject({ status: 'error' });
    });

    it('REST broadcast: httpSend reaches subscribers; a guest may not send to a private channel; public needs the admin switch', async () => {
      const user = await world.user();
      const listener = world.client(world.gh.publishableKey, user.accessToken);
      const got = inbox<unknown>();
      const ch = listener.channel('rest-room', { config: { private: true } }).on('broadcast', { event: 'note' }, (m) => got.push(m.payload));
      expect((await subscribed(ch)).status).toBe('SUBSCRIBED');

      const sender = world.client(world.gh.publishableKey, user.accessToken);
      const senderChannel = sender.channel('rest-room', { config: { private: true } });
      expect(await senderChannel.httpSend('note', { via: 'httpSend' })).toEqual({ success: true });
      expect(await got.next()).toEqual({ via: 'httpSend' });

      const guestChannel = world.client(world.gh.publishableKey).channel('rest-room', { config: { private: true } });
      await expect(guestChannel.httpSend('note', { via: 'guest' })).rejects.toThrow(/forbidden/);
      const publicChannel = world.client(world.gh.publishableKey).channel('rest-room');
      await expect(publicChannel.httpSend('note', { via: 'public' })).rejects.toThrow(/forbidden/);
      // Not joined: supabase-js send() falls back to POST /api/broadcast.
      const notJoined = world.client(world.gh.publishableKey, user.accessToken).channel('rest-room', { config: { private: true } });
      // The fallback carries the socket's token; without a socket it is the one setAuth gave.
      await notJoined.socket.setAuth(user.accessToken);
      expect(await notJoined.send({ type: 'broadcast', event: 'note', payload: { via: 'fallback' } })).toBe('ok');
      expect(await got.next()).toEqual({ via: 'fallback' });
      await sleep(200);
      expect(got.items).toHaveLength(2);
    });

    it('REST broadcast refuses bad bodies with a 4xx JSON error', async () => {
      const post = (body: unknown) => fetch(`${world.gh.url}/realtime/v1/api/broadcast`, { method: 'POST', headers: { apikey: world.gh.secretKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      for (const body of [{}, { messages: [] }, { messages: [{ topic: '', event: 'x' }] }, { messages: [{ topic: 'a', event: 'x', extra: 1 }], more: 1 }, { messages: 'x' }]) {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: expect.any(String) });
      }
      const noKey = await fetch(`${world.gh.url}/realtime/v1/api/broadcast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(noKey.status).toBe(401);
      const huge = await post({ messages: [{ topic: 'a', event: 'x', payload: 'x'.repeat(300_000), private: true }] });
      expect(huge.status).toBe(413);
    });
  });
}

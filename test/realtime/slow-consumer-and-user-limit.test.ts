import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../harness/users.js';
import { rawSocket, sleep, startRealtimeWorld, type RawSocket, type RealtimeWorld } from './socket-world.js';

// Per-connection bounds that involve no table data (one engine): a client that stops reading is
// disconnected instead of buffered without end, and one user's sockets are capped.

describe('realtime slow consumers and sockets per user', () => {
  let world: RealtimeWorld;
  let alice: TestUser;
  const open = () => rawSocket(`${world.gh.url}/realtime/v1/websocket?apikey=${world.gh.publishableKey}`);
  const join = async (s: RawSocket, topic: string, token: string, ref = String(Math.random())) => {
    s.push(ref, ref, topic, 'phx_join', { config: { private: true }, access_token: token });
    return s.reply(ref);
  };

  beforeAll(async () => {
    world = await startRealtimeWorld('sqlite', {
      env: { GATEHOUSE_REALTIME_SEND_QUEUE_BYTES: '65536', GATEHOUSE_REALTIME_MAX_PAYLOAD_BYTES: '262144', GATEHOUSE_REALTIME_EVENTS_PER_SECOND: '1000', GATEHOUSE_REALTIME_CONNECTIONS_PER_USER: '2' },
    });
    alice = await world.user();
  });
  afterAll(async () => { await world?.close(); });

  it('a client that stops reading is disconnected once its queue passes sendQueueBytes; the sender is unaffected', async () => {
    const bob = await world.user();
    const slow = await open();
    const sender = await open();
    expect((await join(slow, 'realtime:firehose', bob.accessToken)).status).toBe('ok');
    expect((await join(sender, 'realtime:firehose', alice.accessToken, 'sj')).status).toBe('ok');
    // The slow client's TCP socket stops reading: the kernel buffers fill, then the server's queue.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = 'x'.repeat(200_000);
    for (let i = 0; i < 100; i++) sender.push('sj', null, 'realtime:firehose', 'broadcast', { type: 'broadcast', event: 'big', payload: { chunk } });
    await sleep(2_500);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    // The close frame (1008 slow consumer) when it got through, else the cut that follows it.
    expect([1008, 1006]).toContain(closed.code);
    sender.push(null, 'h', 'phoenix', 'heartbeat', {});
    expect((await sender.reply('h')).status).toBe('ok');
    sender.ws.close();
  }, 20_000);

  it('one user\'s channels ride on at most connectionsPerUser sockets', async () => {
    const sockets = [await open(), await open(), await open()];
    expect((await join(sockets[0]!, 'realtime:u1', alice.accessToken)).status).toBe('ok');
    // More channels on a socket that already carries the user are fine.
    expect((await join(sockets[0]!, 'realtime:u2', alice.accessToken)).status).toBe('ok');
    expect((await join(sockets[1]!, 'realtime:u1', alice.accessToken)).status).toBe('ok');
    const third = await join(sockets[2]!, 'realtime:u1', alice.accessToken);
    expect(third).toEqual({ status: 'error', response: { reason: 'too many connections for this user' } });
    // A socket that goes gives its place back.
    sockets[0]!.ws.close();
    await sockets[0]!.closed;
    await sleep(100);
    expect((await join(sockets[2]!, 'realtime:u1', alice.accessToken)).status).toBe('ok');
    for (const s of sockets) s.ws.close();
  });
});

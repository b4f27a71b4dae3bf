import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySchema } from '../data/fixtures.js';
import { freshDatabaseUrl, postgresUrl, redisUrl, type FreshDatabase } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { inbox, startRealtimeWorld, subscribed, type RealtimeWorld } from './socket-world.js';

// Two Gatehouse instances on one PostgreSQL database and one Redis: a client on one instance
// hears broadcasts, presence and row changes made through the other.

describe.skipIf(!postgresUrl() || !redisUrl())('realtime across two instances (PostgreSQL + Redis)', () => {
  let db: FreshDatabase;
  let one: RealtimeWorld;
  let two: RealtimeWorld;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    db = await freshDatabaseUrl('postgres');
    // One public URL, as behind a load balancer: the token issuer is the same on both.
    const env = { REDIS_URL: redisUrl()!, GATEHOUSE_PUBLIC_URL: 'http://gatehouse.test' };
    one = await startRealtimeWorld('postgres', { env, database: { databaseUrl: db.databaseUrl, dataDir: db.dataDir } });
    two = await startRealtimeWorld('postgres', { env, database: { databaseUrl: db.databaseUrl, dataDir: db.dataDir } });
    await applySchema(one.gh, one.gh.secretKey, { tables: { notes: { columns: { body: { type: 'text' } }, rules: { select: ['admin', 'self'], insert: ['user'], update: ['self'], delete: ['self'] } } } });
    [alice, bob] = [await one.user(), await one.user()];
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await db?.cleanup();
  });

  it('broadcast and presence from a client on one instance reach a client on the other', async () => {
    const key = one.gh.publishableKey;
    const onOne = one.client(key, alice.accessToken).channel('shared', { config: { private: true, presence: { key: 'alice' } } });
    const got = inbox<unknown>();
    const joins = inbox<string>();
    const onTwo = two.client(key, bob.accessToken).channel('shared', { config: { private: true, presence: { key: 'bob' } } })
      .on('broadcast', { event: 'hello' }, (m) => got.push(m.payload))
      .on('presence', { event: 'join' }, ({ key: k }) => joins.push(k));
    const first = await subscribed(onOne);
    expect(first.status, String(first.error?.message)).toBe('SUBSCRIBED');
    const second = await subscribed(onTwo);
    expect(second.status, String(second.error?.message)).toBe('SUBSCRIBED');
    expect(await onOne.send({ type: 'broadcast', event: 'hello', payload: { from: 'one' } })).toBe('ok');
    expect(await got.next()).toEqual({ from: 'one' });
    expect(await onOne.track({ here: true })).toBe('ok');
    expect(await joins.next()).toBe('alice');

    // A client joining later on the other instance gets the presence tracked on the first.
    const late = inbox<string>();
    const lateChannel = two.client(key, bob.accessToken).channel('shared', { config: { private: true, presence: { key: 'bob-late' } } })
      .on('presence', { event: 'sync' }, () => late.push(Object.keys(lateChannel.presenceState()).sort().join(',')));
    expect((await subscribed(lateChannel)).status).toBe('SUBSCRIBED');
    let keys = await late.next();
    while (!keys.includes('alice')) keys = await late.next();
    expect(keys).toContain('alice');
  });

  it('a row written through one instance reaches its owner subscribed on the other, and nobody else', async () => {
    const key = one.gh.publishableKey;
    const mine = inbox<Record<string, unknown>>();
    const others = inbox<Record<string, unknown>>();
    const a = two.client(key, alice.accessToken).channel('notes-a', { config: { private: true } })
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes' }, (p) => mine.push(p.new));
    const b = two.client(key, bob.accessToken).channel('notes-b', { config: { private: true } })
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes' }, (p) => others.push(p.new));
    expect((await subscribed(a)).status).toBe('SUBSCRIBED');
    expect((await subscribed(b)).status).toBe('SUBSCRIBED');
    const res = await one.gh.app.inject({ method: 'POST', url: '/rest/v1/notes', headers: { apikey: key, authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' }, payload: { body: 'from one' } });
    expect(res.statusCode).toBe(201);
    expect(await mine.next()).toMatchObject({ body: 'from one' });
    // Bob's own row afterwards: once it arrives, Alice's was handled for him too.
    await one.gh.app.inject({ method: 'POST', url: '/rest/v1/notes', headers: { apikey: key, authorization: `Bearer ${bob.accessToken}`, 'content-type': 'application/json' }, payload: { body: 'bob marker' } });
    expect(await others.next()).toMatchObject({ body: 'bob marker' });
    expect(others.items).toHaveLength(1);
  });
});

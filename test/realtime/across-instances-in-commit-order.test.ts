// Changes reach subscribers on every instance (Redis pub/sub with REDIS_URL, else PostgreSQL
// LISTEN/NOTIFY), in commit order per table, even when two instances write the same row at once;
// a row bigger than NOTIFY's 8000-byte limit arrives whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines, postgresUrl, redisUrl } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from '../data/fixtures.js';
import { callerFor, collect, rest } from './setup.js';

type Row = Record<string, unknown>;

interface Setup {
  name: string;
  engine: 'sqlite' | 'postgres';
  instances: 1 | 2;
  redis: boolean;
  skip: boolean;
}

const setups: Setup[] = [
  ...engines().map((engine) => ({ name: `one instance (${engine})`, engine, instances: 1 as const, redis: false, skip: false })),
  { name: 'two instances over PostgreSQL LISTEN/NOTIFY', engine: 'postgres', instances: 2, redis: false, skip: postgresUrl() === null },
  { name: 'two instances over PostgreSQL and Redis', engine: 'postgres', instances: 2, redis: true, skip: postgresUrl() === null || redisUrl() === null },
];

for (const setup of setups) {
  describe.skipIf(setup.skip)(`row changes, ${setup.name}`, () => {
    let writer: TestApp;
    let reader: TestApp;
    let alice: TestUser;
    let bob: TestUser;

    beforeAll(async () => {
      const env = { ...generousLimitsEnv(), ...(setup.redis ? { REDIS_URL: redisUrl()! } : {}) };
      writer = await startTestApp(setup.engine, { env });
      reader = setup.instances === 2
        ? await startTestApp(setup.engine, { env, database: { databaseUrl: writer.config.databaseUrl, dataDir: writer.config.dataDir } })
        : writer;
      await applySchema(writer, writer.secretKey);
      // Each user signs in on the instance it talks to (tokens name their issuer).
      alice = await createTestUser(writer);
      bob = await createTestUser(reader, { publishableKey: writer.publishableKey });
    }, 60_000);
    afterAll(async () => {
      if (reader && reader !== writer) await reader.close();
      await writer?.close();
    });

    it('a write on one instance reaches the subscribers of the other, under their own rules', async () => {
      const bobSees = await collect(reader, await callerFor(reader, writer.publishableKey, bob.accessToken), { event: '*', table: 'todos' });
      const guestSees = await collect(reader, await callerFor(reader, writer.publishableKey), { event: 'INSERT', table: 'todos' });
      try {
        const as = { apikey: writer.publishableKey, token: alice.accessToken };
        await rest(writer, 'POST', '/rest/v1/todos', as, { title: 'private across', note: 'never leaves' });
        // Bigger than a NOTIFY payload, with characters of several UTF-8 lengths.
        const big = 'é€😀x'.repeat(3_000);
        const pub = await rest(writer, 'POST', '/rest/v1/todos', as, { title: 'public across', public: true, meta: { big }, note: 'alice only' });
        expect(pub.status).toBe(201);
        const [event] = await bobSees.waitFor(1, 10_000);
        const [guestEvent] = await guestSees.waitFor(1, 10_000);
        expect(event!.record.title).toBe('public across');
        expect((event!.record.meta as { big: string }).big).toBe(big);
        expect(event!.record.note).toBeNull();
        expect(Object.keys(guestEvent!.record)).not.toContain('note');
        // What Bob's own read answers on his instance.
        const read = await rest(reader, 'GET', `/rest/v1/todos?id=eq.${(pub.body as Row[])[0]!.id}&select=*`, { apikey: writer.publishableKey, token: bob.accessToken });
        expect(event!.record).toEqual((read.body as Row[])[0]);
        expect(JSON.stringify([bobSees.events, guestSees.events])).not.toMatch(/private across|never leaves|alice only/);
      } finally {
        bobSees.unsubscribe();
        guestSees.unsubscribe();
      }
    });

    it('concurrent updates of one row from both instances arrive in commit order: each old_record is the previous record', async () => {
      const created = await rest(writer, 'POST', '/rest/v1/todos', { apikey: writer.secretKey }, { title: 'v-start' });
      const id = (created.body as Row[])[0]!.id;
      const admin = await collect(reader, await callerFor(reader, writer.secretKey), { event: 'UPDATE', table: 'todos' });
      try {
        const n = 40;
        const results = await Promise.all(Array.from({ length: n }, (_, i) => {
          const via = i % 2 === 0 ? writer : reader;
          return rest(via, 'PATCH', `/rest/v1/todos?id=eq.${id}`, { apikey: writer.secretKey }, { title: `v-${i}` });
        }));
        expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
        const events = await admin.waitFor(n, 15_000);
        const final = await rest(writer, 'GET', `/rest/v1/todos?id=eq.${id}&select=title`, { apikey: writer.secretKey });
        const chain = events.map((e) => [e.old_record.title, e.record.title]);
        expect(chain[0]![0]).toBe('v-start');
        for (let k = 1; k < n; k++) expect(chain[k]![0], `event ${k} of ${JSON.stringify(chain)}`).toBe(chain[k - 1]![1]);
        expect(chain[n - 1]![1]).toBe((final.body as Row[])[0]!.title);
        expect(new Set(chain.map((c) => c[1])).size).toBe(n);
      } finally {
        admin.unsubscribe();
      }
    });

    it('storage objects too: an upload on one instance reaches only its owner on the other; replacements from both arrive in commit order, losers publish nothing', async () => {
      const bucket = `rt-${setup.instances}-${setup.redis ? 'r' : 'n'}`;
      const created = await writer.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: writer.secretKey }, payload: { id: bucket } });
      expect(created.statusCode, created.body).toBe(200);
      const upload = (via: TestApp, name: string, body: string, auth: { apikey: string; token?: string }, upsert: boolean) => via.app.inject({
        method: 'POST', url: `/storage/v1/object/${bucket}/${name}`, payload: Buffer.from(body),
        headers: { apikey: auth.apikey, ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}), 'content-type': 'text/plain', ...(upsert ? { 'x-upsert': 'true' } : {}) },
      });
      const spec = { event: '*', schema: 'storage', table: 'objects', filter: `bucket_id=eq.${bucket}` } as const;
      const bobSees = await collect(reader, await callerFor(reader, writer.publishableKey, bob.accessToken), spec);
      const admin = await collect(reader, await callerFor(reader, writer.secretKey), spec);
      const secret = { apikey: writer.secretKey };
      try {
        expect((await upload(writer, 'alice/private.txt', 'private across', { apikey: writer.publishableKey, token: alice.accessToken }, false)).statusCode).toBe(200);
        expect((await upload(writer, 'shared.txt', 'v-start', secret, false)).statusCode).toBe(200);
        expect((await upload(writer, 'bob/his.txt', 'his', { apikey: writer.publishableKey, token: bob.accessToken }, false)).statusCode).toBe(200);
        const [his] = await bobSees.waitFor(1, 10_000);
        expect([his!.type, his!.record.name]).toEqual(['INSERT', 'bob/his.txt']);

        // Rounds of two replacements of one object at once, one through each instance: one of
        // each pair commits (the other is refused, 409, and rolls back), and the bus may deliver
        // the two instances' publishes in any order.
        let committed = 0;
        for (let round = 0; round < 10; round++) {
          const results = await Promise.all([writer, reader].map((via, i) => upload(via, 'shared.txt', `v-${round}-${i}`, secret, true)));
          expect(results.every((r) => r.statusCode === 200 || r.statusCode === 409), results.map((r) => r.body).join()).toBe(true);
          committed += results.filter((r) => r.statusCode === 200).length;
        }
        expect((await upload(writer, 'zz-last.txt', 'last', secret, false)).statusCode).toBe(200);
        const events = await admin.waitFor(4 + committed, 15_000);
        const replaced = events.slice(3, 3 + committed);
        expect(events[3 + committed]!.record.name).toBe('zz-last.txt');
        expect(replaced.every((e) => e.type === 'UPDATE' && e.record.name === 'shared.txt')).toBe(true);
        const chain = [events[1]!.record.version, ...replaced.map((e) => e.record.version)];
        replaced.forEach((e, k) => expect(e.old_record.version, `event ${k}`).toBe(chain[k]));
        expect(new Set(chain).size).toBe(committed + 1);
        expect(bobSees.events.map((e) => e.record.name)).toEqual(['bob/his.txt']);
      } finally {
        bobSees.unsubscribe();
        admin.unsubscribe();
      }
    });
  });
}

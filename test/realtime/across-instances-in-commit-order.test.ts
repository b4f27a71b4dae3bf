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
  });
}

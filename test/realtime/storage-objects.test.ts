import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client as storageClient } from '../data/fixtures.js';
import { engines } from '../harness/engines.js';
import { inbox, startRulesWorld, subscribed, type RulesWorld } from './socket-world.js';
import { writeObjects, type ObjectChangeSink } from '../../src/storage/changes.js';

// supabase.channel(…).on('postgres_changes', { schema: 'storage', table: 'objects' }, …) from the
// unmodified supabase-js: every object write (upload, upsert, move, copy, remove) reaches exactly
// the subscribers storage would let select the object, as storage.objects rows; an object moved
// out of a subscriber's sight reaches it as a DELETE of its id alone. "Hears nothing" is shown by
// a later write the subscriber may see arriving first, never by sleeping.

/** realtime-js's postgres_changes payload, as it arrives for storage.objects. */
type Change = { schema: string; table: string; commit_timestamp: string; eventType: string; new: Record<string, unknown>; old: Record<string, unknown> };
type Spec = { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; schema?: string; table?: string; filter?: string };
const text = (s: string) => Buffer.from(s, 'utf8');

for (const engine of engines()) {
  describe(`storage.objects changes over the socket (${engine})`, () => {
    let world: RulesWorld;
    let aliceFiles: SupabaseClient;
    let bobFiles: SupabaseClient;
    let channels = 0;
    let markers = 0;

    function listen(token: string | undefined, spec: Spec) {
      const box = inbox<Change>();
      // Signed-in users on private channels, the guest on a public one (public_channels below).
      const channel = world.client(world.gh.publishableKey, token).channel(`objects-${channels++}`, { config: { private: token !== undefined } })
        .on('postgres_changes' as never, { schema: 'storage', table: 'objects', ...spec } as never, (payload: Change) => box.push(payload));
      return { box, channel };
    }
    async function listening(token: string | undefined, spec: Spec = { event: '*' }) {
      const l = listen(token, spec);
      const state = await subscribed(l.channel);
      expect(state.status, String(state.error?.message)).toBe('SUBSCRIBED');
      return l.box;
    }
    async function ok<T>(call: Promise<{ data: T; error: unknown }>): Promise<T> {
      const { data, error } = await call;
      expect(error).toBeNull();
      return data;
    }
    /** An object everyone may see (public bucket): once it arrives, everything written before it was handled. */
    async function marker(): Promise<string> {
      const name = `marker-${markers++}.txt`;
      await ok(aliceFiles.storage.from('pics').upload(name, text('m'), { contentType: 'text/plain' }));
      return name;
    }
    const nameOf = (c: Change) => ((c.eventType === 'DELETE' ? c.old : c.new) as { name?: string }).name;

    beforeAll(async () => {
      world = await startRulesWorld(engine);
      const admin = storageClient(world.gh, world.gh.secretKey);
      await ok(admin.storage.createBucket('avatars'));
      await ok(admin.storage.createBucket('pics', { public: true }));
      // Others' objects are readable under shared/ only.
      const res = await world.gh.app.inject({
        method: 'POST', url: '/storage/v1/bucket', headers: { apikey: world.gh.secretKey },
        payload: { id: 'docs', rules: { select: ['admin', 'self', 'folder[0] == "shared"'] } },
      });
      expect(res.statusCode, res.body).toBe(200);
      aliceFiles = storageClient(world.gh, world.gh.publishableKey, world.alice.accessToken);
      bobFiles = storageClient(world.gh, world.gh.publishableKey, world.bob.accessToken);
    });
    afterAll(async () => { await world?.close(); });

    it('the owner hears upload, upsert, move, copy and remove of its private object, as storage.objects rows', async () => {
      const a = await listening(world.alice.accessToken);
      const files = aliceFiles.storage.from('avatars');
      await ok(files.upload('alice/face.txt', text('v1'), { contentType: 'text/plain', metadata: { kind: 'face' } }));
      await ok(files.upload('alice/face.txt', text('v two'), { contentType: 'text/plain', upsert: true }));
      await ok(files.move('alice/face.txt', 'alice/face2.txt'));
      await ok(files.copy('alice/face2.txt', 'alice/copy.txt'));
      await ok(files.remove(['alice/face2.txt', 'alice/copy.txt']));

      const seen: Change[] = [];
      for (let i = 0; i < 6; i++) seen.push(await a.next());
      expect(seen.map((c) => [c.eventType, nameOf(c)])).toEqual([
        ['INSERT', 'alice/face.txt'], ['UPDATE', 'alice/face.txt'], ['UPDATE', 'alice/face2.txt'],
        ['INSERT', 'alice/copy.txt'], ['DELETE', 'alice/face2.txt'], ['DELETE', 'alice/copy.txt'],
      ]);
      const [inserted, upserted, moved, copied, removed] = seen as [Change, Change, Change, Change, Change];
      expect(inserted.schema).toBe('storage');
      expect(inserted.table).toBe('objects');
      expect(inserted.commit_timestamp).toEqual(expect.any(String));
      expect(inserted.new).toMatchObject({
        bucket_id: 'avatars', name: 'alice/face.txt', owner: world.alice.id, owner_id: world.alice.id, path_tokens: ['alice', 'face.txt'],
        user_metadata: { kind: 'face' }, metadata: { size: 2, mimetype: 'text/plain', contentLength: 2 },
      });
      expect(Object.keys(inserted.new).sort()).toEqual([
        'bucket_id', 'created_at', 'id', 'last_accessed_at', 'metadata', 'name', 'owner', 'owner_id', 'path_tokens', 'updated_at', 'user_metadata', 'version',
      ]);
      const id = inserted.new.id;
      // Upsert: new content, same object; the old values as they were.
      expect(upserted.new).toMatchObject({ id, metadata: { size: 5 }, user_metadata: null });
      expect(upserted.old).toMatchObject({ id, metadata: { size: 2 }, user_metadata: { kind: 'face' }, version: inserted.new.version });
      expect(upserted.new.version).not.toBe(inserted.new.version);
      // Move: same object, new place.
      expect(moved.new).toMatchObject({ id, name: 'alice/face2.txt', path_tokens: ['alice', 'face2.txt'], version: upserted.new.version });
      expect(moved.old).toMatchObject({ id, name: 'alice/face.txt' });
      expect(copied.new.id).not.toBe(id);
      expect(removed.old).toMatchObject({ id, name: 'alice/face2.txt', owner: world.alice.id });
      expect(removed.new).toEqual({});
    });

    it('B and a guest hear nothing of A\'s private objects, deletes included; a public bucket\'s objects reach everyone', async () => {
      const b = await listening(world.bob.accessToken);
      const g = await listening(undefined);
      const files = aliceFiles.storage.from('avatars');
      await ok(files.upload('alice/secret.txt', text('secret'), { contentType: 'text/plain' }));
      await ok(files.upload('alice/secret.txt', text('secret 2'), { contentType: 'text/plain', upsert: true }));
      await ok(files.move('alice/secret.txt', 'alice/secret-moved.txt'));
      await ok(files.copy('alice/secret-moved.txt', 'alice/secret-copy.txt'));
      await ok(files.remove(['alice/secret-moved.txt', 'alice/secret-copy.txt']));
      const last = await marker();
      for (const box of [b, g]) {
        const first = await box.next();
        expect([first.eventType, nameOf(first)]).toEqual(['INSERT', last]);
        expect(first.new).toMatchObject({ bucket_id: 'pics', owner: world.alice.id });
        expect(box.items).toHaveLength(1);
        expect(JSON.stringify(box.items)).not.toContain('secret');
      }
      // Bob's own private object: his, not the guest's.
      await ok(bobFiles.storage.from('avatars').upload('bob/mine.txt', text('b'), { contentType: 'text/plain' }));
      const next = await marker();
      expect(nameOf(await b.next())).toBe('bob/mine.txt');
      expect(nameOf(await b.next())).toBe(next);
      expect(nameOf(await g.next())).toBe(next);
    });

    it('a move that takes an object out of sight reaches B and the guest as a DELETE of its id alone', async () => {
      const b = await listening(world.bob.accessToken);
      const g = await listening(undefined);
      const docs = aliceFiles.storage.from('docs');
      // docs: others (the guest too: the rule names no group) read shared/ only.
      await ok(docs.upload('shared/plan.txt', text('plan'), { contentType: 'text/plain' }));
      await ok(docs.move('shared/plan.txt', 'private/plan-hidden.txt'));
      for (const box of [b, g]) {
        const shown = await box.next();
        expect([shown.eventType, nameOf(shown)]).toEqual(['INSERT', 'shared/plan.txt']);
        const gone = await box.next();
        expect(gone.eventType).toBe('DELETE');
        expect(gone.old).toEqual({ id: shown.new.id });
        expect(gone.new).toEqual({});
      }
      // Once hidden, nothing more of it: neither its update nor its removal.
      await ok(docs.upload('private/plan-hidden.txt', text('plan 2'), { contentType: 'text/plain', upsert: true }));
      await ok(docs.remove(['private/plan-hidden.txt']));

      // Across buckets: from the public bucket into a private one.
      const pics = aliceFiles.storage.from('pics');
      await ok(pics.upload('going.txt', text('g'), { contentType: 'text/plain' }));
      const arrived = await g.next();
      expect(nameOf(arrived)).toBe('going.txt');
      await ok(pics.move('going.txt', 'alice/hidden-now.txt', { destinationBucket: 'avatars' }));
      const left = await g.next();
      expect(left.eventType).toBe('DELETE');
      expect(left.old).toEqual({ id: arrived.new.id });
      const last = await marker();
      expect(nameOf(await b.next())).toBe('going.txt');
      const leftForBob = await b.next();
      expect([leftForBob.eventType, leftForBob.old]).toEqual(['DELETE', { id: arrived.new.id }]);
      expect(nameOf(await b.next())).toBe(last);
      expect(nameOf(await g.next())).toBe(last);
      for (const box of [b, g]) expect(JSON.stringify(box.items)).not.toMatch(/plan-hidden|hidden-now|private\//);
    });

    it('a filter on bucket_id delivers only that bucket\'s objects; an event filter only its kind', async () => {
      const a = await listening(world.alice.accessToken, { event: '*', filter: 'bucket_id=eq.pics' });
      const deletes = await listening(world.alice.accessToken, { event: 'DELETE' });
      await ok(aliceFiles.storage.from('avatars').upload('alice/not-pics.txt', text('x'), { contentType: 'text/plain' }));
      await ok(aliceFiles.storage.from('avatars').remove(['alice/not-pics.txt']));
      const last = await marker();
      const first = await a.next();
      expect([first.eventType, nameOf(first)]).toEqual(['INSERT', last]);
      expect(a.items).toHaveLength(1);
      const removed = await deletes.next();
      expect([removed.eventType, nameOf(removed)]).toEqual(['DELETE', 'alice/not-pics.txt']);
    });

    it('emptying a bucket and deleting a user publish a DELETE per object, to who could read each', async () => {
      const admin = storageClient(world.gh, world.gh.secretKey);
      await ok(admin.storage.createBucket('scratch'));
      const carol = await world.user();
      const carolFiles = storageClient(world.gh, world.gh.publishableKey, carol.accessToken);
      const a = await listening(world.alice.accessToken);
      const b = await listening(world.bob.accessToken);
      const all = await listening(undefined, { event: 'DELETE' });
      // The secret key (an admin) reads every object.
      const adminBox = inbox<Change>();
      const adminChannel = world.client(world.gh.secretKey).channel(`objects-${channels++}`)
        .on('postgres_changes' as never, { event: '*', schema: 'storage', table: 'objects' } as never, (payload: Change) => adminBox.push(payload));
      expect((await subscribed(adminChannel)).status).toBe('SUBSCRIBED');
      await ok(aliceFiles.storage.from('scratch').upload('alice/tmp.txt', text('t'), { contentType: 'text/plain' }));
      await ok(carolFiles.storage.from('avatars').upload('carol/hers.txt', text('c'), { contentType: 'text/plain' }));
      await ok(admin.storage.emptyBucket('scratch'));
      const del = await world.gh.app.inject({ method: 'DELETE', url: `/admin/v1/users/${carol.id}`, headers: { apikey: world.gh.secretKey } });
      expect(del.statusCode, del.body).toBe(204);
      const last = await marker();
      expect((await Promise.all([a.next(), a.next(), a.next()])).map((c) => [c.eventType, nameOf(c)])).toEqual([
        ['INSERT', 'alice/tmp.txt'], ['DELETE', 'alice/tmp.txt'], ['INSERT', last],
      ]);
      expect(nameOf(await b.next())).toBe(last);
      expect(b.items).toHaveLength(1);
      const seenByAdmin = await Promise.all(Array.from({ length: 5 }, () => adminBox.next()));
      expect(seenByAdmin.map((c) => [c.eventType, nameOf(c)])).toEqual([
        ['INSERT', 'alice/tmp.txt'], ['INSERT', 'carol/hers.txt'], ['DELETE', 'alice/tmp.txt'], ['DELETE', 'carol/hers.txt'], ['INSERT', last],
      ]);
      // The guest (DELETE only) was never allowed to read either object.
      await ok(aliceFiles.storage.from('pics').remove([last]));
      expect([(await all.next()).eventType, nameOf(all.items[0]!)]).toEqual(['DELETE', last]);
    });

    it('a bucket made public applies at once: its next objects reach everyone', async () => {
      const admin = storageClient(world.gh, world.gh.secretKey);
      await ok(admin.storage.createBucket('flip'));
      const g = await listening(undefined);
      const files = aliceFiles.storage.from('flip');
      await ok(files.upload('before.txt', text('x'), { contentType: 'text/plain' }));
      const hidden = await marker();
      expect(nameOf(await g.next())).toBe(hidden);
      await ok(admin.storage.updateBucket('flip', { public: true }));
      await ok(files.upload('after.txt', text('x'), { contentType: 'text/plain' }));
      expect(nameOf(await g.next(2_000))).toBe('after.txt');
      expect(JSON.stringify(g.items)).not.toContain('before.txt');
    });

    it('a key narrowed to one bucket hears nothing of the others, public ones included', async () => {
      const { gh } = world;
      const narrowed = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'dev', kind: 'publishable', name: 'avatars only', scopes: ['storage:avatars:read'] });
      const box = inbox<Change>();
      const channel = world.client(narrowed.key, world.bob.accessToken).channel(`objects-${channels++}`, { config: { private: true } })
        .on('postgres_changes' as never, { event: '*', schema: 'storage', table: 'objects' } as never, (payload: Change) => box.push(payload));
      expect((await subscribed(channel)).status).toBe('SUBSCRIBED');
      await marker();
      await ok(bobFiles.storage.from('avatars').upload('bob/in-scope.txt', text('b'), { contentType: 'text/plain' }));
      const first = await box.next();
      expect([first.eventType, nameOf(first)]).toEqual(['INSERT', 'bob/in-scope.txt']);
      expect(box.items).toHaveLength(1);
    });

    it('other storage tables are refused as before, and a filter on an unknown column is refused', async () => {
      for (const spec of [{ event: '*', table: 'buckets' }, { event: '*', schema: 'auth', table: 'objects' }] as Spec[]) {
        const state = await subscribed(listen(world.alice.accessToken, spec).channel);
        expect(state.status).toBe('CHANNEL_ERROR');
        expect(String(state.error?.message)).toContain('schema must be public');
      }
      const bad = await subscribed(listen(world.alice.accessToken, { event: '*', filter: 'secret=eq.1' }).channel);
      expect(bad.status).toBe('CHANNEL_ERROR');
      expect(String(bad.error?.message)).toMatch(/secret/);
    });

    it('a write that rolls back tells its listener nothing; a committed one, only after commit', async () => {
      const db = world.gh.deps.storage.db;
      const ran: string[] = [];
      const sink: ObjectChangeSink = {
        async capture(_trx, changes) {
          ran.push(`captured ${changes.changes.length}`);
          return () => ran.push('published');
        },
      };
      const row = {
        id: `obj_rollback_${engine}`, project_id: 'p', environment: 'dev', bucket_id: 'nowhere', name: 'x.txt', folder_0: null, folder_1: null,
        folder_2: null, folder_3: null, owner: null, version: 'v', size: 1, mimetype: 'text/plain', etag: 'e', cache_control: null, metadata: null,
        created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
      };
      const change = { type: 'INSERT' as const, record: null, old: null };
      await expect(writeObjects(db, sink, { projectId: 'p', environment: 'dev' }, async (trx) => {
        await trx.insertInto('storage_objects').values(row).execute();
        throw new Error('refused after the insert');
      })).rejects.toThrow('refused after the insert');
      expect(ran).toEqual([]);
      expect(await db.selectFrom('storage_objects').select('id').where('id', '=', row.id).executeTakeFirst()).toBeUndefined();

      await writeObjects(db, sink, { projectId: 'p', environment: 'dev' }, async (trx) => {
        await trx.insertInto('storage_objects').values(row).execute();
        return { result: null, changes: [change] };
      });
      expect(ran).toEqual(['captured 1', 'published']);
      await db.deleteFrom('storage_objects').where('id', '=', row.id).execute();
    });
  });
}

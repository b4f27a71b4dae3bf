// Per-bucket rules in the Data API's grammar, concurrent uploads to one name, per-user quotas, and
// what happens to a deleted user's files (issue #15), on both engines.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { startStorageWorld, type StorageWorld } from './setup.js';

const text = (s: string) => Buffer.from(s, 'utf8');

describe.each(engines())('bucket rules, concurrency, quotas and owners (%s)', (engine) => {
  let w: StorageWorld;
  let alice: { user: TestUser; client: SupabaseClient };
  let bob: { user: TestUser; client: SupabaseClient };

  beforeAll(async () => {
    w = await startStorageWorld(engine, { env: { GATEHOUSE_STORAGE_USER_QUOTA_BYTES: '1000', GATEHOUSE_STORAGE_USER_QUOTA_OBJECTS: '50' } });
    alice = await w.user();
    bob = await w.user();
  });
  afterAll(async () => { await w?.close(); });

  const createBucket = (id: string, body: object) => w.gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: w.gh.secretKey }, payload: { id, ...body } });

  it('folder rules: each user writes only under their own id, reads their folder and the shared one', async () => {
    const res = await createBucket('homes', {
      rules: {
        select: ['admin', 'folder[0] == auth.uid', 'folder[0] == "shared"'],
        insert: ['folder[0] == auth.uid', 'admin'],
        update: ['folder[0] == auth.uid'],
        delete: ['folder[0] == auth.uid'],
      },
    });
    expect(res.statusCode).toBe(200);
    const a = alice.client.storage.from('homes');
    const b = bob.client.storage.from('homes');
    expect((await a.upload(`${alice.user.id}/notes.txt`, text('mine'))).error).toBeNull();
    const intoBob = await a.upload(`${bob.user.id}/planted.txt`, text('planted'));
    expect(intoBob.error).toMatchObject({ status: 403 });
    expect((await a.upload('shared/x.txt', text('x'))).error).toMatchObject({ status: 403 });
    expect((await w.admin.storage.from('homes').upload('shared/welcome.txt', text('hi all'))).error).toBeNull();

    expect(await (await b.download('shared/welcome.txt')).data!.text()).toBe('hi all');
    expect((await b.download(`${alice.user.id}/notes.txt`)).error).toMatchObject({ status: 404 });
    expect((await b.list(alice.user.id)).data).toEqual([]);
    // Moving Alice's file into Bob's folder needs an insert there: refused.
    expect((await a.move(`${alice.user.id}/notes.txt`, `${bob.user.id}/notes.txt`)).error).toMatchObject({ status: 403 });
    // Listing the root shows each caller only the folders holding what it may see.
    expect((await a.list()).data!.map((e) => e.name).sort()).toEqual([alice.user.id, 'shared'].sort());
    expect((await b.list()).data!.map((e) => e.name)).toEqual(['shared']);
  });

  it('a public bucket keeps its rules for listing and writing; only the public URL is open to all', async () => {
    expect((await createBucket('gallery', { public: true })).statusCode).toBe(200);
    expect((await alice.client.storage.from('gallery').upload('a.txt', text('a'))).error).toBeNull();
    expect((await bob.client.storage.from('gallery').list()).data).toEqual([]);
    expect((await bob.client.storage.from('gallery').remove(['a.txt'])).data).toEqual([]);
    const url = bob.client.storage.from('gallery').getPublicUrl('a.txt').data.publicUrl;
    expect(await (await fetch(url)).text()).toBe('a');
  });

  it('public bucket ids are unique on the server: another project cannot shadow one', async () => {
    const other = await w.gh.createProject('other');
    const res = await w.gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: other.secretKey }, payload: { id: 'gallery', public: true } });
    expect(res.statusCode).toBe(409);
    // A private bucket of the same id is fine: private objects always need a key.
    const privateOne = await w.gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: other.secretKey }, payload: { id: 'gallery' } });
    expect(privateOne.statusCode).toBe(200);
    // And the other project's keys reach nothing of this one's buckets.
    const peek = await w.gh.app.inject({ method: 'GET', url: '/storage/v1/object/info/homes/shared/welcome.txt', headers: { apikey: other.secretKey } });
    expect(peek.statusCode).toBe(404);
  });

  it('concurrent uploads to one name: one version wins whole, the bytes are never mixed', async () => {
    expect((await createBucket('race', {})).statusCode).toBe(200);
    const files = alice.client.storage.from('race');
    const bodies = ['A', 'B', 'C', 'D', 'E', 'F'].map((c) => c.repeat(100));
    const results = await Promise.all(bodies.map((body) => files.upload('same.txt', text(body), { upsert: true })));
    expect(results.some((r) => r.error === null)).toBe(true);
    for (const r of results) if (r.error) expect(r.error).toMatchObject({ status: 409 });
    const final = await (await files.download('same.txt')).data!.text();
    expect(bodies).toContain(final);
    // Only the winner's bytes are kept: every loser's file was removed.
    expect((await files.list()).data!.map((e) => e.name)).toEqual(['same.txt']);
  });

  it('a user over their byte quota is refused with 413; replacing their own object counts only the difference', async () => {
    expect((await createBucket('quota', {})).statusCode).toBe(200);
    const files = bob.client.storage.from('quota');
    expect((await files.upload('big.bin', Buffer.alloc(900, 1))).error).toBeNull();
    const over = await files.upload('more.bin', Buffer.alloc(200, 1));
    expect(over.error).toMatchObject({ status: 413 });
    expect((await files.upload('big.bin', Buffer.alloc(950, 2), { upsert: true })).error).toBeNull();
    expect((await files.remove(['big.bin'])).error).toBeNull();
    expect((await files.upload('more.bin', Buffer.alloc(200, 1))).error).toBeNull();
  });

  it('a copy counts against the caller\'s quota: copying one object again and again cannot fill the disk', async () => {
    const dave = await w.user();
    expect((await createBucket('quota-copy', {})).statusCode).toBe(200);
    const files = dave.client.storage.from('quota-copy');
    expect((await files.upload('one.bin', Buffer.alloc(600, 3))).error).toBeNull();
    const again = await files.copy('one.bin', 'two.bin');
    expect(again.error).toMatchObject({ status: 413 });
    expect((await files.exists('two.bin')).data).toBe(false);
    expect(Buffer.from(await (await files.download('one.bin')).data!.arrayBuffer())).toEqual(Buffer.alloc(600, 3));
    // Under the quota, the same copy goes through.
    expect((await files.upload('small.bin', Buffer.alloc(100, 4))).error).toBeNull();
    expect((await files.copy('small.bin', 'small-2.bin')).error).toBeNull();
  });

  it('move and copy into another bucket obey the destination\'s insert rule', async () => {
    expect((await createBucket('open-src', {})).statusCode).toBe(200);
    expect((await createBucket('admins-only', { rules: { select: ['admin'], insert: ['admin'], update: ['admin'], delete: ['admin'] } })).statusCode).toBe(200);
    const mine = alice.client.storage.from('open-src');
    expect((await mine.upload('keep.txt', text('keep'))).error).toBeNull();
    const copied = await mine.copy('keep.txt', 'stolen.txt', { destinationBucket: 'admins-only' });
    expect(copied.error).toMatchObject({ status: 403 });
    const moved = await mine.move('keep.txt', 'stolen.txt', { destinationBucket: 'admins-only' });
    expect(moved.error).toMatchObject({ status: 403 });
    expect((await mine.exists('keep.txt')).data).toBe(true);
    expect((await w.admin.storage.from('admins-only').list()).data).toEqual([]);
  });

  it('deleting a user deletes their objects, and the audit log says so', async () => {
    const carol = await w.user();
    expect((await createBucket('leaving', {})).statusCode).toBe(200);
    const files = carol.client.storage.from('leaving');
    expect((await files.upload('a.txt', text('a'))).error).toBeNull();
    expect((await files.upload('b/c.txt', text('c'))).error).toBeNull();
    const del = await w.gh.app.inject({ method: 'DELETE', url: `/admin/v1/users/${carol.user.id}`, headers: { apikey: w.gh.secretKey } });
    expect(del.statusCode).toBeLessThan(300);
    const left = await w.admin.storage.from('leaving').list();
    expect(left.data).toEqual([]);
    const audit = await w.gh.deps.audit.list(w.gh.project.id, 'dev', { limit: 20 });
    expect(audit.find((e) => e.action === 'storage.user_objects.deleted' && e.target === `user:${carol.user.id}`)?.details).toEqual({ objects: 2 });
  });
});

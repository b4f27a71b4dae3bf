// The real supabase.storage (supabase-js) against Gatehouse on both engines (issue #15): the whole
// client surface on a user's own objects, then everything user B and a guest try on user A's.
import { createHash, randomBytes } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import { startS3, type S3Server } from '../harness/s3.js';
import { startStorageWorld, type StorageWorld } from './setup.js';

const text = (s: string) => Buffer.from(s, 'utf8');

const combos = engines().flatMap((engine) => [[engine, 'local'], [engine, 's3']] as const);

describe.each(combos)('supabase.storage through Gatehouse (%s, %s backend)', (engine, backend) => {
  let w: StorageWorld;
  let s3: S3Server | null = null;
  let alice: { user: { id: string }; client: SupabaseClient };
  let bob: { user: { id: string }; client: SupabaseClient };

  beforeAll(async () => {
    s3 = backend === 's3' ? await startS3() : null;
    w = await startStorageWorld(engine, { env: s3?.env ?? {} });
    expect(w.gh.deps.files.backend.kind).toBe(backend);
    expect((await w.admin.storage.createBucket('files')).error).toBeNull();
    expect((await w.admin.storage.createBucket('pics', { public: true })).error).toBeNull();
    alice = await w.user();
    bob = await w.user();
  });
  afterAll(async () => { await w?.close(); await s3?.stop(); });

  it('buckets: an admin creates, reads, lists, updates, empties and deletes them; a user cannot', async () => {
    const created = await w.admin.storage.createBucket('tmp-bucket', { public: false, fileSizeLimit: '1MB', allowedMimeTypes: ['image/*'] });
    expect(created).toEqual({ data: { name: 'tmp-bucket' }, error: null });
    const got = await w.admin.storage.getBucket('tmp-bucket');
    expect(got.data).toMatchObject({ id: 'tmp-bucket', name: 'tmp-bucket', public: false, file_size_limit: 1024 * 1024, allowed_mime_types: ['image/*'] });
    const list = await w.admin.storage.listBuckets();
    expect(list.data?.map((b) => b.id).sort()).toEqual(['files', 'pics', 'tmp-bucket']);
    expect((await w.admin.storage.updateBucket('tmp-bucket', { public: false, fileSizeLimit: 2048 })).error).toBeNull();
    expect((await w.admin.storage.getBucket('tmp-bucket')).data?.file_size_limit).toBe(2048);
    const again = await w.admin.storage.createBucket('tmp-bucket');
    expect(again.error).toMatchObject({ status: 409, statusCode: '409' });

    for (const client of [alice.client, w.guest]) {
      const denied = await client.storage.createBucket('mine');
      expect(denied.error).toMatchObject({ status: 403 });
      expect((await client.storage.listBuckets()).error).toMatchObject({ status: 403 });
      expect((await client.storage.deleteBucket('tmp-bucket')).error).toMatchObject({ status: 403 });
    }
    expect((await w.admin.storage.from('tmp-bucket').upload('a.png', text('x'), { contentType: 'image/png' })).error).toBeNull();
    expect((await w.admin.storage.deleteBucket('tmp-bucket')).error).toMatchObject({ status: 409 });
    expect((await w.admin.storage.emptyBucket('tmp-bucket')).error).toBeNull();
    expect((await w.admin.storage.deleteBucket('tmp-bucket')).error).toBeNull();
    expect((await w.admin.storage.getBucket('tmp-bucket')).error).toMatchObject({ status: 404, statusCode: '404', message: 'Bucket not found.' });
  });

  it('a user uploads (Buffer and Blob), downloads, lists, checks, upserts, moves, copies and removes their own objects', async () => {
    const files = alice.client.storage.from('files');
    const up = await files.upload('docs/readme.txt', text('hello'), { contentType: 'text/plain' });
    expect(up.error).toBeNull();
    expect(up.data).toMatchObject({ path: 'docs/readme.txt', fullPath: 'files/docs/readme.txt' });
    expect(up.data?.id).toMatch(/^obj_/);
    const blob = await files.upload('docs/pixel.bin', new Blob([new Uint8Array([1, 2, 3, 4])], { type: 'application/octet-stream' }), { metadata: { kind: 'test' } });
    expect(blob.error).toBeNull();

    const down = await files.download('docs/readme.txt');
    expect(down.error).toBeNull();
    expect(await down.data!.text()).toBe('hello');
    expect(Buffer.from(await (await files.download('docs/pixel.bin')).data!.arrayBuffer())).toEqual(Buffer.from([1, 2, 3, 4]));

    expect(await files.exists('docs/readme.txt')).toMatchObject({ data: true });
    expect(await files.exists('docs/nothing.txt')).toMatchObject({ data: false });
    const info = await files.info('docs/pixel.bin');
    expect(info.data).toMatchObject({ name: 'docs/pixel.bin', bucketId: 'files', size: 4, contentType: 'application/octet-stream', metadata: { kind: 'test' } });

    // Again without upsert: taken. With upsert: replaced, whole.
    const dup = await files.upload('docs/readme.txt', text('again'));
    expect(dup.error).toMatchObject({ status: 409, statusCode: '409' });
    expect((await files.upload('docs/readme.txt', text('hello, world'), { upsert: true })).error).toBeNull();
    expect(await (await files.download('docs/readme.txt')).data!.text()).toBe('hello, world');
    expect((await files.update('docs/readme.txt', text('updated'))).error).toBeNull();
    expect(await (await files.download('docs/readme.txt')).data!.text()).toBe('updated');
    expect((await files.update('docs/none.txt', text('x'))).error).toMatchObject({ status: 404 });

    await files.upload('top.txt', text('top'));
    const root = await files.list();
    expect(root.error).toBeNull();
    expect(root.data!.map((e) => [e.name, e.id === null])).toEqual([['docs', true], ['top.txt', false]]);
    const docs = await files.list('docs');
    expect(docs.data!.map((e) => e.name)).toEqual(['pixel.bin', 'readme.txt']);
    expect(docs.data![1]!.metadata).toMatchObject({ size: 7, mimetype: 'text/plain', eTag: `"${createHash('sha256').update('updated').digest('hex')}"` });
    expect((await files.list('docs', { limit: 1, offset: 1 })).data!.map((e) => e.name)).toEqual(['readme.txt']);
    expect((await files.list('docs', { search: 'pix' })).data!.map((e) => e.name)).toEqual(['pixel.bin']);

    expect((await files.move('top.txt', 'moved/top.txt')).error).toBeNull();
    expect((await files.download('top.txt')).error).toMatchObject({ status: 404 });
    expect(await (await files.download('moved/top.txt')).data!.text()).toBe('top');
    const copied = await files.copy('moved/top.txt', 'copies/top.txt');
    expect(copied).toEqual({ data: { path: 'files/copies/top.txt' }, error: null });
    expect(await (await files.download('copies/top.txt')).data!.text()).toBe('top');

    const removed = await files.remove(['moved/top.txt', 'copies/top.txt', 'never/was.txt']);
    expect(removed.error).toBeNull();
    expect(removed.data!.map((o) => o.name).sort()).toEqual(['copies/top.txt', 'moved/top.txt']);
    expect(await files.exists('moved/top.txt')).toMatchObject({ data: false });
  });

  it('a 12 MiB file goes up (in parts on S3) and comes back identical, also by ranges', async () => {
    const big = randomBytes(12 * 1024 * 1024);
    const files = alice.client.storage.from('files');
    expect((await files.upload('big/blob.bin', big, { contentType: 'application/octet-stream' })).error).toBeNull();
    const back = Buffer.from(await (await files.download('big/blob.bin')).data!.arrayBuffer());
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    const url = (await files.createSignedUrl('big/blob.bin', 60)).data!.signedUrl;
    const slice = await fetch(url, { headers: { range: 'bytes=6291455-6291464' } });
    expect(slice.status).toBe(206);
    expect(Buffer.from(await slice.arrayBuffer())).toEqual(big.subarray(6291455, 6291465));
    expect((await files.remove(['big/blob.bin'])).data).toHaveLength(1);
  });

  it('user B gets nothing of user A\'s private objects through any call, and changes none of them', async () => {
    const mine = alice.client.storage.from('files');
    expect((await mine.upload('secret/plan.txt', text('the plan'))).error).toBeNull();
    const theirs = bob.client.storage.from('files');

    const download = await theirs.download('secret/plan.txt');
    const missing = await theirs.download('secret/nothing-here.txt');
    // Answered exactly as a missing object: same status, code and message.
    expect(download.error).toMatchObject({ status: 404, statusCode: '404', message: 'Object not found.' });
    expect(download.error?.message).toBe(missing.error?.message);
    expect(await theirs.exists('secret/plan.txt')).toMatchObject({ data: false });
    expect((await theirs.info('secret/plan.txt')).error).toMatchObject({ status: 404 });
    expect((await theirs.list('secret')).data).toEqual([]);
    expect((await theirs.list()).data!.map((e) => e.name)).not.toContain('secret');
    expect((await theirs.createSignedUrl('secret/plan.txt', 60)).error).toMatchObject({ status: 404 });
    const many = await theirs.createSignedUrls(['secret/plan.txt'], 60);
    expect(many.data).toEqual([expect.objectContaining({ signedUrl: null, error: expect.any(String) })]);
    expect((await theirs.move('secret/plan.txt', 'stolen.txt')).error).toMatchObject({ status: 404 });
    expect((await theirs.copy('secret/plan.txt', 'stolen.txt')).error).toMatchObject({ status: 404 });
    expect((await theirs.update('secret/plan.txt', text('overwritten'))).error).toMatchObject({ status: 404 });
    expect((await theirs.upload('secret/plan.txt', text('overwritten'), { upsert: true })).error).toMatchObject({ status: 409 });
    expect((await theirs.createSignedUploadUrl('secret/plan.txt', { upsert: true })).error).toMatchObject({ status: 409 });
    expect((await theirs.remove(['secret/plan.txt'])).data).toEqual([]);

    // Still there, unchanged, and still Alice's.
    expect(await (await mine.download('secret/plan.txt')).data!.text()).toBe('the plan');
    expect((await mine.list('secret')).data!.map((e) => e.name)).toEqual(['plan.txt']);
  });

  it('a guest (publishable key only) gets public objects and nothing private', async () => {
    expect((await alice.client.storage.from('files').upload('guest-test/private.txt', text('private'))).error).toBeNull();
    expect((await alice.client.storage.from('pics').upload('guest-test/public.txt', text('public'))).error).toBeNull();
    const files = w.guest.storage.from('files');
    expect((await files.download('guest-test/private.txt')).error).toMatchObject({ status: 404 });
    expect((await files.list('guest-test')).data).toEqual([]);
    expect((await files.upload('guest-test/new.txt', text('x'))).error).toMatchObject({ status: 403 });

    // The public URL needs no key at all; the same path in a private bucket does not open.
    const publicUrl = w.guest.storage.from('pics').getPublicUrl('guest-test/public.txt').data.publicUrl;
    const res = await fetch(publicUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('public');
    expect(res.headers.get('cache-control')).toMatch(/^public/);
    const privateUrl = w.guest.storage.from('files').getPublicUrl('guest-test/private.txt').data.publicUrl;
    const refused = await fetch(privateUrl);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ statusCode: '404', code: 'NoSuchBucket' });
  });
});

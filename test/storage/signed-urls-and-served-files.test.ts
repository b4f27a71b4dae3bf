// Signed URLs (bound to object, operation, expiry, version and the environment's key) and what a
// served file may do in the browser (issue #15), through supabase-js and plain fetch.
import { createHash } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { startStorageWorld, type StorageWorld } from './setup.js';

const text = (s: string) => Buffer.from(s, 'utf8');

describe.each(engines())('signed URLs and served files (%s)', (engine) => {
  let w: StorageWorld;
  let alice: { user: TestUser; client: SupabaseClient };
  let bob: { user: TestUser; client: SupabaseClient };

  beforeAll(async () => {
    w = await startStorageWorld(engine);
    expect((await w.admin.storage.createBucket('files')).error).toBeNull();
    alice = await w.user();
    bob = await w.user();
  });
  afterAll(async () => { await w?.close(); });

  it('a signed download URL opens its object without any key, until it expires', async () => {
    const files = alice.client.storage.from('files');
    await files.upload('signed/a.txt', text('aaa'));
    const { data, error } = await files.createSignedUrl('signed/a.txt', 60);
    expect(error).toBeNull();
    const res = await fetch(data!.signedUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('aaa');
    expect(res.headers.get('cache-control')).toMatch(/^private/);

    w.clock.nowMs += 61_000;
    const expired = await fetch(data!.signedUrl);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ statusCode: '400', code: 'InvalidSignature' });
  });

  it('a signed URL is for its own object only: another path or a tampered token is refused', async () => {
    const files = alice.client.storage.from('files');
    await files.upload('signed/b.txt', text('bbb'));
    await files.upload('signed/c.txt', text('ccc'));
    const url = new URL((await files.createSignedUrl('signed/b.txt', 60)).data!.signedUrl);
    const token = url.searchParams.get('token')!;
    const other = `${w.storageUrl}/object/sign/files/signed/c.txt?token=${token}`;
    expect((await fetch(other)).status).toBe(400);
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect((await fetch(`${w.storageUrl}/object/sign/files/signed/b.txt?token=${tampered}`)).status).toBe(400);
    // A forged payload (c.txt) under b.txt's signature.
    const forged = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    forged.n = 'signed/c.txt';
    const forgedToken = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
    expect((await fetch(`${w.storageUrl}/object/sign/files/signed/c.txt?token=${forgedToken}`)).status).toBe(400);
    // A user's access token is not a signed URL token.
    expect((await fetch(`${w.storageUrl}/object/sign/files/signed/b.txt?token=${alice.user.accessToken}`)).status).toBe(400);
    expect((await fetch(`${w.storageUrl}/object/sign/files/signed/b.txt`)).status).toBe(400);
  });

  it('a signed URL stops working when its object is replaced', async () => {
    const files = alice.client.storage.from('files');
    await files.upload('signed/d.txt', text('old'));
    const url = (await files.createSignedUrl('signed/d.txt', 600)).data!.signedUrl;
    expect((await fetch(url)).status).toBe(200);
    await files.upload('signed/d.txt', text('new'), { upsert: true });
    expect((await fetch(url)).status).toBe(400);
    const fresh = (await files.createSignedUrl('signed/d.txt', 600)).data!.signedUrl;
    expect(await (await fetch(fresh)).text()).toBe('new');
  });

  it('createSignedUrls signs what the caller may read and nothing else', async () => {
    await alice.client.storage.from('files').upload('signed/f.txt', text('fff'));
    const { data } = await alice.client.storage.from('files').createSignedUrls(['signed/f.txt', 'signed/none.txt'], 60);
    expect(data![0]!.signedUrl).toMatch(/token=/);
    expect(data![1]).toMatchObject({ signedUrl: null, error: expect.any(String) });
    expect(await (await fetch(data![0]!.signedUrl!)).text()).toBe('fff');
  });

  it('many names in one call: signs and removes exactly what the caller may, in the order named', async () => {
    const mine = alice.client.storage.from('files');
    for (const name of ['many/a.txt', 'many/b.txt']) expect((await mine.upload(name, text(name))).error).toBeNull();
    expect((await bob.client.storage.from('files').upload('many/bobs.txt', text('bob'))).error).toBeNull();

    const names = ['many/b.txt', 'many/bobs.txt', 'many/none.txt', 'many/../x', 'many/a.txt'];
    const signed = await mine.createSignedUrls(names, 60);
    expect(signed.error).toBeNull();
    expect(signed.data!.map((e) => [e.path, e.signedUrl !== null, e.error === null])).toEqual([
      ['many/b.txt', true, true], ['many/bobs.txt', false, false], ['many/none.txt', false, false], ['many/../x', false, false], ['many/a.txt', true, true],
    ]);
    // Hidden, missing and malformed answer alike.
    expect(new Set(signed.data!.slice(1, 4).map((e) => e.error)).size).toBe(1);
    expect(await (await fetch(signed.data![4]!.signedUrl!)).text()).toBe('many/a.txt');

    // A malformed name refuses the whole removal before anything goes.
    expect((await mine.remove(['many/a.txt', 'many//x'])).error).toMatchObject({ status: 400 });
    expect(await mine.exists('many/a.txt')).toMatchObject({ data: true });
    const removed = await mine.remove(['many/b.txt', 'many/bobs.txt', 'many/none.txt', 'many/a.txt', 'many/b.txt']);
    expect(removed.error).toBeNull();
    expect(removed.data!.map((o) => o.name)).toEqual(['many/b.txt', 'many/a.txt']);
    expect(await mine.exists('many/a.txt')).toMatchObject({ data: false });
    expect(await bob.client.storage.from('files').exists('many/bobs.txt')).toMatchObject({ data: true });
  });

  it('a signed upload URL uploads once, to its own path, as the user who asked', async () => {
    const files = alice.client.storage.from('files');
    const signed = await files.createSignedUploadUrl('uploads/one.txt');
    expect(signed.error).toBeNull();
    const other = await w.guest.storage.from('files').uploadToSignedUrl('uploads/two.txt', signed.data!.token, text('elsewhere'));
    expect(other.error).toMatchObject({ status: 400 });
    const first = await w.guest.storage.from('files').uploadToSignedUrl('uploads/one.txt', signed.data!.token, text('first'));
    expect(first.error).toBeNull();
    const again = await w.guest.storage.from('files').uploadToSignedUrl('uploads/one.txt', signed.data!.token, text('second'));
    expect(again.error).toMatchObject({ status: 400 });
    expect(await (await files.download('uploads/one.txt')).data!.text()).toBe('first');
    // It is Alice's: Bob cannot see it.
    expect(await bob.client.storage.from('files').exists('uploads/one.txt')).toMatchObject({ data: false });
  });

  it('a signed upload URL is only made when the upload it allows would pass: both are decided as the same uploader', async () => {
    // Rules over the caller's claims: a signed upload runs as the user it was made for (id and group,
    // no other claims), so signing must be decided as that uploader too, or it promises a refusal.
    const createBucket = async (id: string, rules: object) =>
      (await w.gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: w.gh.secretKey }, payload: { id, rules } })).statusCode;
    expect(await createBucket('by-claim', { select: ['self'], insert: ['auth.claims.email != ""'] })).toBe(200);
    const files = () => alice.client.storage.from('files');
    const mine = alice.client.storage.from('by-claim');
    expect((await mine.upload('direct.txt', text('direct'))).error).toBeNull();
    const signed = await mine.createSignedUploadUrl('signed.txt');
    expect(signed.error).toMatchObject({ status: 403 });
    expect(signed.data).toBeNull();

    // Over a taken name the URL needs upsert and the update rule, exactly as the upload will.
    expect((await files().upload('uploads/taken.txt', text('taken'))).error).toBeNull();
    expect((await files().createSignedUploadUrl('uploads/taken.txt')).error).toMatchObject({ status: 409 });
    expect((await bob.client.storage.from('files').createSignedUploadUrl('uploads/taken.txt', { upsert: true })).error).toMatchObject({ status: 409 });
    const again = await files().createSignedUploadUrl('uploads/taken.txt', { upsert: true });
    expect(again.error).toBeNull();
    expect((await w.guest.storage.from('files').uploadToSignedUrl('uploads/taken.txt', again.data!.token, text('replaced'), { upsert: true })).error).toBeNull();
    expect(await (await files().download('uploads/taken.txt')).data!.text()).toBe('replaced');

    // A secret key's URL uploads as the admin it was made by: an admin-only bucket takes it.
    expect(await createBucket('admins-only', { insert: ['admin'] })).toBe(200);
    const adminUrl = await w.admin.storage.from('admins-only').createSignedUploadUrl('by-admin.txt');
    expect(adminUrl.error).toBeNull();
    expect((await w.guest.storage.from('admins-only').uploadToSignedUrl('by-admin.txt', adminUrl.data!.token, text('ok'))).error).toBeNull();
    expect((await alice.client.storage.from('admins-only').createSignedUploadUrl('by-alice.txt')).error).toMatchObject({ status: 403 });
  });

  it('served files: nosniff, a sandbox CSP, and attachment for HTML, SVG and XML', async () => {
    const files = alice.client.storage.from('files');
    const cases: Array<[string, string, string]> = [
      ['x.html', 'text/html', '<script>alert(document.cookie)</script>'],
      ['x.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
      ['x.xml', 'application/xml', '<?xml version="1.0"?><a/>'],
      ['x.xhtml', 'application/xhtml+xml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'],
    ];
    for (const [name, type, body] of cases) {
      expect((await files.upload(`served/${name}`, text(body), { contentType: type })).error).toBeNull();
      const url = (await files.createSignedUrl(`served/${name}`, 60)).data!.signedUrl;
      const res = await fetch(url);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/sandbox/);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
    }
    await files.upload('served/photo.bin', Buffer.from([1, 2, 3]), { contentType: 'image/png' });
    const inline = await fetch((await files.createSignedUrl('served/photo.bin', 60)).data!.signedUrl);
    expect(inline.headers.get('content-disposition')).toMatch(/^inline/);
    expect(inline.headers.get('content-security-policy')).toMatch(/sandbox/);
  });

  it('Range reads a slice (206), an unsatisfiable one is 416, and If-None-Match answers 304', async () => {
    const files = alice.client.storage.from('files');
    await files.upload('ranged/digits.txt', text('0123456789'));
    const url = (await files.createSignedUrl('ranged/digits.txt', 600)).data!.signedUrl;
    const part = await fetch(url, { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await part.text()).toBe('2345');
    const tail = await fetch(url, { headers: { range: 'bytes=-3' } });
    expect(await tail.text()).toBe('789');
    const bad = await fetch(url, { headers: { range: 'bytes=50-60' } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */10');
    // storage-api's dialect for it, with S3's code and words (the Data API's row Range has its own code).
    expect(await bad.json()).toMatchObject({ statusCode: '416', code: 'InvalidRange', error: 'storage_range_not_satisfiable', message: 'The requested range is not satisfiable.' });
    const full = await fetch(url);
    const etag = full.headers.get('etag')!;
    // The ETag is the SHA-256 of the bytes (not MD5, whose collisions an uploader could make).
    expect(etag).toBe(`"${createHash('sha256').update('0123456789').digest('hex')}"`);
    const cached = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
  });

  // Last: it moves the clock past the users' access tokens.
  it('a signed URL stops working once the signing key has rotated out', async () => {
    const files = alice.client.storage.from('files');
    await files.upload('signed/e.txt', text('eee'));
    const url = (await files.createSignedUrl('signed/e.txt', 7 * 86400)).data!.signedUrl;
    const rotate = await w.gh.app.inject({ method: 'POST', url: '/admin/v1/auth/signing-keys/rotate', headers: { apikey: w.gh.secretKey } });
    expect(rotate.statusCode).toBe(201);
    // The retired key still verifies during its grace (the access-token TTL), then no more.
    expect((await fetch(url)).status).toBe(200);
    w.clock.nowMs += 2 * 3600_000;
    expect((await fetch(url)).status).toBe(400);
  });
});

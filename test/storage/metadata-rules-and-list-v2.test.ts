// Bucket rules over the objects' user metadata (`metadata.<key>`), and `listV2` (POST
// /object/list-v2/{bucket}), through the real supabase.storage on both engines (issue #15).
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../harness/engines.js';
import type { TestUser } from '../harness/users.js';
import { startStorageWorld, type StorageWorld } from './setup.js';

const text = (s: string) => Buffer.from(s, 'utf8');

describe.each(engines())('rules over metadata, and list-v2 (%s)', (engine) => {
  let w: StorageWorld;
  let alice: { user: TestUser; client: SupabaseClient };
  let bob: { user: TestUser; client: SupabaseClient };

  beforeAll(async () => {
    w = await startStorageWorld(engine);
    alice = await w.user();
    bob = await w.user();
  });
  afterAll(async () => { await w?.close(); });

  const createBucket = (id: string, body: object) => w.gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: w.gh.secretKey }, payload: { id, ...body } });

  it('a select rule on metadata lets another user read an object only when its uploader set that metadata', async () => {
    expect((await createBucket('team', { rules: { select: ['admin', 'self', 'metadata.visibility == "team"'] } })).statusCode).toBe(200);
    const a = alice.client.storage.from('team');
    const b = bob.client.storage.from('team');
    // Raw body (x-metadata) and multipart (Blob) carry metadata differently: both count.
    expect((await a.upload('shared.txt', text('for the team'), { metadata: { visibility: 'team' } })).error).toBeNull();
    expect((await a.upload('blob.txt', new Blob(['blob for the team'], { type: 'text/plain' }), { metadata: { visibility: 'team' } })).error).toBeNull();
    expect((await a.upload('private.txt', text('mine'))).error).toBeNull();
    // Near misses: another case, another JSON type, a nested value, the key at another depth.
    expect((await a.upload('case.txt', text('x'), { metadata: { visibility: 'Team' } })).error).toBeNull();
    expect((await a.upload('array.txt', text('x'), { metadata: { visibility: ['team'] } })).error).toBeNull();
    expect((await a.upload('nested.txt', text('x'), { metadata: { other: { visibility: 'team' } } })).error).toBeNull();

    expect(await (await b.download('shared.txt')).data!.text()).toBe('for the team');
    expect(await (await b.download('blob.txt')).data!.text()).toBe('blob for the team');
    for (const name of ['private.txt', 'case.txt', 'array.txt', 'nested.txt']) {
      expect((await b.download(name)).error, name).toMatchObject({ status: 404 });
      expect((await b.exists(name)).data, name).toBe(false);
    }
    // Listings (v1 and v2) are filtered by the same rule, in SQL.
    expect((await b.list()).data!.map((e) => e.name).sort()).toEqual(['blob.txt', 'shared.txt']);
    expect((await b.listV2()).data!.objects.map((e) => e.name).sort()).toEqual(['blob.txt', 'shared.txt']);
    expect((await a.list()).data!.map((e) => e.name)).toHaveLength(6);

    // Replacing the object without the metadata takes the team's access away.
    expect((await a.upload('shared.txt', text('now mine'), { upsert: true })).error).toBeNull();
    expect((await b.download('shared.txt')).error).toMatchObject({ status: 404 });
    expect((await b.list()).data!.map((e) => e.name)).toEqual(['blob.txt']);
  });

  it('an insert rule on metadata judges the metadata the upload brings', async () => {
    expect((await createBucket('photos', { rules: { insert: ['metadata.kind == "photo"'] } })).statusCode).toBe(200);
    const a = alice.client.storage.from('photos');
    expect((await a.upload('none.txt', text('x'))).error).toMatchObject({ status: 403 });
    expect((await a.upload('other.txt', text('x'), { metadata: { kind: 'video' } })).error).toMatchObject({ status: 403 });
    expect((await a.upload('cat.txt', text('x'), { metadata: { kind: 'photo' } })).error).toBeNull();
    expect((await a.list()).data!.map((e) => e.name)).toEqual(['cat.txt']);
  });

  it('a bad metadata key in a rule is refused at bucket creation with a clear 400', async () => {
    const keys = ['metadata.a.b', 'metadata', 'metadata.x[0]', `metadata.${'k'.repeat(65)}`, 'metadata.a-b', 'metadata."a"', "metadata.a') = 'x' or ('1"];
    for (const key of keys) {
      const res = await createBucket('badkey', { rules: { select: [`${key} == "x"`] } });
      expect(res.statusCode, key).toBe(400);
      expect(res.json(), key).toMatchObject({ statusCode: '400' });
      expect(res.json().message, key).toMatch(/A bucket rule is not valid: select\[0\]/);
    }
    expect((await w.admin.storage.getBucket('badkey')).error).toMatchObject({ status: 404 });
  });

  it('listV2 pages with a cursor, folds folders with with_delimiter, and sorts by a column', async () => {
    expect((await createBucket('v2', {})).statusCode).toBe(200);
    const a = alice.client.storage.from('v2');
    const b = bob.client.storage.from('v2');
    const mine = [`${alice.user.id}/1.txt`, `${alice.user.id}/2.txt`, `${alice.user.id}/3.txt`, `${alice.user.id}/sub/4.txt`, `${alice.user.id}/sub/deeper/5.txt`];
    for (const name of mine) {
      w.clock.nowMs += 1000;
      expect((await a.upload(name, text(name))).error).toBeNull();
    }
    expect((await b.upload(`${bob.user.id}/b.txt`, text('bob'))).error).toBeNull();

    // Pages of two, each resuming at the cursor, until hasNext is false.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { data, error } = await a.listV2({ prefix: `${alice.user.id}/`, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(error).toBeNull();
      seen.push(...data!.objects.map((o) => o.name));
      expect(data!.objects.every((o) => o.id && o.metadata?.size && o.key === o.name)).toBe(true);
      if (!data!.hasNext) break;
      cursor = data!.nextCursor;
    }
    expect(seen).toEqual(mine);

    const folded = await a.listV2({ prefix: `${alice.user.id}/`, with_delimiter: true });
    expect(folded.data!.objects.map((o) => o.name)).toEqual(mine.slice(0, 3));
    expect(folded.data!.folders).toEqual([{ key: `${alice.user.id}/sub/`, name: `${alice.user.id}/sub/` }]);
    // A partial prefix matches names, not only folders.
    expect((await a.listV2({ prefix: `${alice.user.id}/su` })).data!.objects.map((o) => o.name)).toEqual(mine.slice(3));

    // With folders, pages resume past a whole folder.
    const first = await a.listV2({ with_delimiter: true, prefix: `${alice.user.id}/`, limit: 3 });
    expect(first.data).toMatchObject({ hasNext: true });
    const second = await a.listV2({ with_delimiter: true, prefix: `${alice.user.id}/`, limit: 3, cursor: first.data!.nextCursor! });
    expect(second.data).toMatchObject({ hasNext: false, objects: [], folders: [{ name: `${alice.user.id}/sub/` }] });

    const newestFirst: string[] = [];
    cursor = undefined;
    for (let page = 0; page < 6; page++) {
      const { data } = await a.listV2({ sortBy: { column: 'created_at', order: 'desc' }, limit: 1, ...(cursor ? { cursor } : {}) });
      newestFirst.push(...data!.objects.map((o) => o.name));
      if (!data!.hasNext) break;
      cursor = data!.nextCursor;
    }
    expect(newestFirst).toEqual([...mine].reverse());
  });

  it("listV2 shows user B nothing of user A's private objects: not as objects, not as folders, not past a cursor", async () => {
    const b = bob.client.storage.from('v2');
    expect((await b.listV2()).data).toEqual({ hasNext: false, folders: [], objects: [expect.objectContaining({ name: `${bob.user.id}/b.txt` })] });
    expect((await b.listV2({ with_delimiter: true })).data).toMatchObject({ hasNext: false, folders: [{ name: `${bob.user.id}/` }], objects: [] });
    expect((await b.listV2({ prefix: `${alice.user.id}/` })).data).toEqual({ hasNext: false, folders: [], objects: [] });
    // A cursor of B's own making, aimed into A's names, only says where to start.
    const forged = Buffer.from(JSON.stringify({ n: '' }), 'utf8').toString('base64url');
    expect((await b.listV2({ prefix: `${alice.user.id}/`, cursor: forged, with_delimiter: true })).data).toEqual({ hasNext: false, folders: [], objects: [] });
    // A guest (publishable key only) sees nothing of a private bucket.
    expect((await w.guest.storage.from('v2').listV2()).data).toEqual({ hasNext: false, folders: [], objects: [] });
    // The admin sees everything.
    expect((await w.admin.storage.from('v2').listV2()).data!.objects).toHaveLength(6);
  });

  it('folder listings walk folders by character, not by JS string index, and skip folders of hidden objects', async () => {
    // The folder walk finds the next `/` in SQL, which counts characters: a prefix with a character
    // outside the BMP (two JS code units) must still cut folder names in the right place.
    expect((await createBucket('walk', {})).statusCode).toBe(200);
    const a = alice.client.storage.from('walk');
    // Two of them, and folders with deeper folders: an index off by two code units would cut past the
    // first `/` and list `a` once per subfolder.
    for (const name of ['pics😀😀/a/x/1.txt', 'pics😀😀/a/y/2.txt', 'pics😀😀/b/3.txt', 'pics😀😀/c.txt', 'pics😀😀/é/4.txt', 'pics😀😀/😀/z/5.txt', 'pics😀😀.txt']) {
      expect((await a.upload(name, text(name))).error).toBeNull();
    }
    // Bob's folder in the same bucket is not Alice's to see, not even as a folder name.
    expect((await bob.client.storage.from('walk').upload('pics😀😀/bob/6.txt', text('bob'))).error).toBeNull();

    const listed = await a.list('pics😀😀');
    expect(listed.error).toBeNull();
    expect(listed.data!.map((e) => [e.name, e.id === null])).toEqual([['a', true], ['b', true], ['c.txt', false], ['é', true], ['😀', true]]);
    expect((await a.list('pics😀😀', { limit: 2, offset: 2 })).data!.map((e) => e.name)).toEqual(['c.txt', 'é']);
    expect((await a.list()).data!.map((e) => e.name)).toEqual(['pics😀😀.txt', 'pics😀😀']); // by bytes: '.' sorts before '/'

    // list-v2 folds the same way, and pages across folders with its cursor.
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await a.listV2({ prefix: 'pics😀😀/', with_delimiter: true, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.error).toBeNull();
      pages.push(...page.data!.folders.map((f) => f.name), ...page.data!.objects.map((o) => o.name));
      cursor = page.data!.hasNext ? page.data!.nextCursor : undefined;
    } while (cursor);
    expect(pages.sort()).toEqual(['pics😀😀/a/', 'pics😀😀/b/', 'pics😀😀/c.txt', 'pics😀😀/é/', 'pics😀😀/😀/'].sort());
    // A prefix that ends inside a segment folds at the next `/` after it.
    const partial = await a.listV2({ prefix: 'pics😀😀/', with_delimiter: true });
    expect(partial.data!.folders.map((f) => f.name)).toEqual(['pics😀😀/a/', 'pics😀😀/b/', 'pics😀😀/é/', 'pics😀😀/😀/']);
    expect((await a.listV2({ prefix: 'pics', with_delimiter: true })).data).toMatchObject({ folders: [{ name: 'pics😀😀/' }], objects: [{ name: 'pics😀😀.txt' }] });
    expect((await bob.client.storage.from('walk').list('pics😀😀')).data!.map((e) => e.name)).toEqual(['bob']);
  });

  it('listV2 refuses bad input with a storage-shaped 400', async () => {
    const bad: object[] = [
      { limit: 0 }, { limit: 'many' }, { cursor: 'not a cursor!' }, { cursor: Buffer.from('[1]').toString('base64url') },
      { sortBy: { column: 'size' } }, { sortBy: { column: 'name', order: 'sideways' } }, { with_delimiter: 'yes' }, { prefix: '../x' },
      { sortBy: { column: 'created_at' }, cursor: Buffer.from('{"n":"x"}').toString('base64url') }, ['not', 'an', 'object'],
    ];
    for (const payload of bad) {
      const res = await w.gh.app.inject({ method: 'POST', url: '/storage/v1/object/list-v2/v2', headers: { apikey: w.gh.secretKey }, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json(), JSON.stringify(payload)).toMatchObject({ statusCode: '400' });
    }
    const missing = await w.gh.app.inject({ method: 'POST', url: '/storage/v1/object/list-v2/nope', headers: { apikey: w.gh.secretKey }, payload: {} });
    expect(missing.statusCode).toBe(404);
  });
});

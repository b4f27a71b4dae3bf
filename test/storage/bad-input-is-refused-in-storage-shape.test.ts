// Bad input to /storage/v1 (issue #15 "Bad input"): a clear storage-shaped 4xx, nothing stored,
// nothing lost. Raw HTTP (inject): supabase-js would clean some of these paths before sending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

describe.each(engines())('storage refuses bad input (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  const headers = () => ({ apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` });

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), listen: true });
    const create = (payload: object) => gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: gh.secretKey }, payload });
    expect((await create({ id: 'files' })).statusCode).toBe(200);
    expect((await create({ id: 'small', file_size_limit: 1024 })).statusCode).toBe(200);
    expect((await create({ id: 'images', allowed_mime_types: ['image/png', 'image/jpeg'] })).statusCode).toBe(200);
    alice = await createTestUser(gh);
  });
  afterAll(async () => { await gh?.close(); });

  function raw(method: string, path: string, body?: string): Promise<{ status: number; body: unknown }> {
    const url = new URL(gh.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers(), 'content-type': 'text/plain' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const upload = (url: string, payload: string | Buffer = 'x', extra: Record<string, string> = {}) =>
    gh.app.inject({ method: 'POST', url, headers: { ...headers(), 'content-type': 'text/plain', ...extra }, payload });

  it.each([
    ['a .. segment', '/storage/v1/object/files/a/../b.txt'],
    ['an encoded .. segment', '/storage/v1/object/files/a/%2e%2e/b.txt'],
    ['a leading ..', '/storage/v1/object/files/../../etc/passwd'],
    ['a . segment', '/storage/v1/object/files/a/./b.txt'],
    ['a double slash', '/storage/v1/object/files/a//b.txt'],
    ['a trailing slash', '/storage/v1/object/files/a/'],
    ['a NUL', '/storage/v1/object/files/a%00.txt'],
    ['a backslash', '/storage/v1/object/files/a\\..\\b.txt'],
    ['a control character', '/storage/v1/object/files/a%0Ab.txt'],
    ['a DEL', '/storage/v1/object/files/a%7Fb.txt'],
    ['a name over 1024 bytes', `/storage/v1/object/files/${'a'.repeat(1025)}`],
  ])('an object name with %s is 400 InvalidKey, on upload and on download', async (_label, path) => {
    // A real socket: the path goes out byte for byte (fetch and inject would resolve the dots first).
    const up = await raw('POST', path, 'x');
    expect(up.status).toBe(400);
    expect(up.body).toMatchObject({ statusCode: '400', code: 'InvalidKey', error: 'storage_invalid_key' });
    const down = await raw('GET', path);
    expect(down.status).toBe(400);
    expect(down.body).toMatchObject({ statusCode: '400', code: 'InvalidKey' });
  });

  it('a name that is not valid Unicode (a lone surrogate) is 400', async () => {
    expect((await upload('/storage/v1/object/files/src2.txt')).statusCode).toBe(200);
    const res = await gh.app.inject({ method: 'POST', url: '/storage/v1/object/copy', headers: headers(), payload: { bucketId: 'files', sourceKey: 'src2.txt', destinationKey: 'a\ud800b' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'InvalidKey' });
  });

  it('nothing reached the disk under a client-chosen name: only random keys exist', async () => {
    expect((await upload('/storage/v1/object/files/ok/name.txt')).statusCode).toBe(200);
    const root = join(gh.config.dataDir, 'storage', 'objects');
    const stored: string[] = [];
    for (const dir of await readdir(root)) for (const file of await readdir(join(root, dir))) stored.push(`${dir}/${file}`);
    expect(stored.length).toBeGreaterThan(0);
    for (const path of stored) expect(path).toMatch(/^[a-z2-7]{2}\/[a-z2-7]{26}$/);
  });

  it('a move or copy to a bad name, or a remove of one, is 400 too', async () => {
    expect((await upload('/storage/v1/object/files/src.txt')).statusCode).toBe(200);
    for (const route of ['move', 'copy']) {
      const res = await gh.app.inject({ method: 'POST', url: `/storage/v1/object/${route}`, headers: headers(), payload: { bucketId: 'files', sourceKey: 'src.txt', destinationKey: '../../x' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'InvalidKey' });
    }
    const remove = await gh.app.inject({ method: 'DELETE', url: '/storage/v1/object/files', headers: headers(), payload: { prefixes: ['a/../b'] } });
    expect(remove.statusCode).toBe(400);
  });

  it('a bucket that does not exist is 404 NoSuchBucket; a bad or reserved bucket id is 400', async () => {
    const res = await upload('/storage/v1/object/nope/a.txt');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ statusCode: '404', code: 'NoSuchBucket', error: 'storage_bucket_not_found', message: 'Bucket not found.' });
    for (const id of ['public', 'list', '../x', 'a b', '']) {
      const created = await gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: gh.secretKey }, payload: { id } });
      expect(created.statusCode).toBe(400);
      expect(created.json()).toMatchObject({ code: 'InvalidBucketName' });
    }
  });

  it('a body over the bucket limit is 413 from its Content-Length, before it is read', async () => {
    const res = await upload('/storage/v1/object/small/big.txt', Buffer.alloc(2048, 1));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ statusCode: '413', code: 'EntityTooLarge' });
    expect(res.headers.connection).toBe('close');
    const listed = await gh.app.inject({ method: 'POST', url: '/storage/v1/object/list/small', headers: headers(), payload: { prefix: '' } });
    expect(listed.json()).toEqual([]);
  });

  it('a chunked body (no Content-Length) is cut off at the limit: 413, nothing stored', async () => {
    const { Readable } = await import('node:stream');
    let sent = 0;
    // 64 KiB chunks, 10 MiB in all: the server must stop long before the end.
    const body = new Readable({
      read() {
        if (sent >= 10 * 1024 * 1024) { this.push(null); return; }
        sent += 65536;
        this.push(Buffer.alloc(65536, 2));
      },
    });
    const res = await gh.app.inject({ method: 'POST', url: '/storage/v1/object/small/stream.bin', headers: { ...headers(), 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' }, payload: body });
    expect(res.statusCode).toBe(413);
    const info = await gh.app.inject({ method: 'GET', url: '/storage/v1/object/info/small/stream.bin', headers: headers() });
    expect(info.statusCode).toBe(404);
  });

  it('a type outside the allowlist is 415, by its header and by its bytes', async () => {
    const html = await upload('/storage/v1/object/images/page.html', '<script>alert(1)</script>', { 'content-type': 'text/html' });
    expect(html.statusCode).toBe(415);
    expect(html.json()).toMatchObject({ statusCode: '415', code: 'InvalidMimeType' });
    // GIF bytes that claim to be a PNG: the bytes decide.
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64)]);
    const disguised = await upload('/storage/v1/object/images/cat.png', gif, { 'content-type': 'image/png' });
    expect(disguised.statusCode).toBe(415);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000dIHDR', 'latin1'), Buffer.alloc(64)]);
    expect((await upload('/storage/v1/object/images/real.png', png, { 'content-type': 'image/png' })).statusCode).toBe(200);
    const gone = await gh.app.inject({ method: 'GET', url: '/storage/v1/object/info/images/cat.png', headers: headers() });
    expect(gone.statusCode).toBe(404);
  });

  it('bad JSON fields are 400, not 500', async () => {
    const cases: Array<[string, string, object]> = [
      ['POST', '/storage/v1/object/list/files', { limit: 'many' }],
      ['POST', '/storage/v1/object/list/files', { prefix: 42 }],
      ['POST', '/storage/v1/object/sign/files/src.txt', { expiresIn: -1 }],
      ['POST', '/storage/v1/object/sign/files', { expiresIn: 60, paths: 'src.txt' }],
      ['DELETE', '/storage/v1/object/files', { prefixes: 'src.txt' }],
      ['POST', '/storage/v1/object/move', { sourceKey: 'a', destinationKey: 'b' }],
    ];
    for (const [method, url, payload] of cases) {
      const res = await gh.app.inject({ method: method as 'POST', url, headers: headers(), payload });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(res.json()).toHaveProperty('statusCode', '400');
    }
    const rules = await gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: gh.secretKey }, payload: { id: 'ruled', rules: { select: ['password == "x"'] } } });
    expect(rules.statusCode).toBe(400);
    expect(rules.json().message).toContain('unknown name password');
  });
});

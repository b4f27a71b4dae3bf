// kill -9 of Gatehouse in the middle of uploads (issue #15): after the restart no partial object is
// visible: a replaced object still has its old bytes, whole; a new one does not exist.
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function call(url: string, method: string, headers: Record<string, string>, body?: Readable | Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req); else req.end(body);
  });
}

async function partFiles(dataDir: string): Promise<number> {
  return (await readdir(join(dataDir, 'storage', 'tmp')).catch(() => [] as string[])).filter((n) => n.endsWith('.part')).length;
}

describe.each(engines())('kill -9 mid-upload (%s)', (engine) => {
  let db: FreshDatabase;
  let gh: GatehouseProcess | undefined;
  afterEach(async () => {
    if (gh?.alive()) {
      gh.kill('SIGKILL');
      await gh.exited;
    }
    await db?.cleanup();
  });

  it('a half-sent replacement and a half-sent new object leave nothing visible after a restart', async () => {
    db = await freshDatabaseUrl(engine);
    gh = await spawnGatehouse({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    const headers = { apikey: gh.secretKey! };
    expect((await call(`${gh.url}/storage/v1/bucket`, 'POST', { ...headers, 'content-type': 'application/json' }, Buffer.from('{"id":"files"}'))).status).toBe(200);
    const v1 = randomBytes(1024 * 1024);
    const up = await call(`${gh.url}/storage/v1/object/files/doc.bin`, 'POST', { ...headers, 'content-type': 'application/octet-stream' }, v1);
    expect(up.status).toBe(200);

    // Two uploads that send half their body and then wait forever.
    const pending = ['doc.bin', 'fresh.bin'].map((name) => {
      const body = new Readable({ read() {} });
      body.push(randomBytes(512 * 1024));
      void call(`${gh!.url}/storage/v1/object/files/${name}`, 'POST', { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(1024 * 1024), 'x-upsert': 'true' }, body).catch(() => null);
      return body;
    });
    // Both are being written (their temp files exist) when the process dies.
    await expect.poll(() => partFiles(db.dataDir), { timeout: 10_000 }).toBe(2);
    gh.kill('SIGKILL');
    expect((await gh.exited).signal).toBe('SIGKILL');
    for (const body of pending) body.destroy();

    gh = await spawnGatehouse({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    const doc = await call(`${gh.url}/storage/v1/object/files/doc.bin`, 'GET', headers);
    expect(doc.status).toBe(200);
    expect(sha(doc.body)).toBe(sha(v1));
    const fresh = await call(`${gh.url}/storage/v1/object/files/fresh.bin`, 'GET', headers);
    expect(fresh.status).toBe(404);
    const list = await call(`${gh.url}/storage/v1/object/list/files`, 'POST', { ...headers, 'content-type': 'application/json' }, Buffer.from('{"prefix":""}'));
    expect((JSON.parse(list.body.toString()) as Array<{ name: string }>).map((e) => e.name)).toEqual(['doc.bin']);
  }, 90_000);
});

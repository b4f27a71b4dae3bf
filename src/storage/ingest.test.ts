import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors/index.js';
import { MAX_IN_FLIGHT_BYTES, openHashSession, openHashSessions } from './hash-worker.js';
import { BATCH_BYTES, SNIFF_BYTES, UploadInspector } from './ingest.js';

// The upload's one pass: ETag (SHA-256, hashed on the worker thread past one batch), byte count,
// size limit and the head kept for sniffing.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sink = () => new Writable({ write(_chunk, _encoding, callback) { callback(); } });
const tooLarge = () => new GatehouseError('storage_entity_too_large');

/** `bytes` as a stream of `chunk`-sized pieces (copies, as a socket would give). */
function pieces(bytes: Buffer, chunk: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(Buffer.from(bytes.subarray(i, i + chunk)));
  return Readable.from(parts);
}

async function inspect(bytes: Buffer, chunk: number, limit = Infinity): Promise<UploadInspector> {
  const inspector = new UploadInspector(limit, tooLarge);
  await pipeline(pieces(bytes, chunk), inspector, sink());
  return inspector;
}

describe('upload inspector', () => {
  it.each([
    [0, 1000], [1, 1000], [SNIFF_BYTES + 1, 1000], [BATCH_BYTES - 1, 65_536], [BATCH_BYTES, 65_536], [BATCH_BYTES + 1, 65_536],
    [1024 * 1024, 65_536], [3 * 1024 * 1024 + 7, 1_000_003], [MAX_IN_FLIGHT_BYTES * 2 + 5, 4 * 1024 * 1024],
  ])('the ETag of %i bytes (in %i-byte chunks) is their SHA-256, and the bytes pass unchanged', async (size, chunk) => {
    const bytes = randomBytes(size);
    const inspector = new UploadInspector(Infinity, tooLarge);
    const out: Buffer[] = [];
    await pipeline(pieces(bytes, chunk), inspector, new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
    expect(await inspector.etag()).toBe(sha(bytes));
    expect(inspector.bytes).toBe(size);
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
    expect(inspector.head().equals(bytes.subarray(0, SNIFF_BYTES))).toBe(true);
    expect(openHashSessions()).toBe(0);
  });

  it('uploads at the same time get each their own ETag', async () => {
    const bodies = [0, 1, 2, 3].map((i) => randomBytes(BATCH_BYTES * 3 + i * 1000));
    const inspectors = await Promise.all(bodies.map((b) => inspect(b, 50_000)));
    expect(await Promise.all(inspectors.map((i) => i.etag()))).toEqual(bodies.map(sha));
  });

  it('a body past the limit fails with the limit error, and its hash session is dropped', async () => {
    const inspector = new UploadInspector(BATCH_BYTES * 2, tooLarge);
    const failure = await pipeline(pieces(randomBytes(BATCH_BYTES * 4), 10_000), inspector, sink()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatehouseError);
    expect((failure as GatehouseError).code).toBe('storage_entity_too_large');
    expect(inspector.bytes).toBeLessThanOrEqual(BATCH_BYTES * 2 + 10_000);
    expect(openHashSessions()).toBe(0);
  });

  it('a body that fails midway drops its hash session', async () => {
    const body = new Readable({ read() {} });
    body.push(randomBytes(BATCH_BYTES * 2 + 1));
    setTimeout(() => body.destroy(new Error('client went away')), 20);
    const inspector = new UploadInspector(Infinity, tooLarge);
    await expect(pipeline(body, inspector, sink())).rejects.toThrow('client went away');
    expect(openHashSessions()).toBe(0);
  });

  it('the worker holds back an upload it has fallen MAX_IN_FLIGHT_BYTES behind, then lets it on', async () => {
    const session = openHashSession();
    const bytes = randomBytes(MAX_IN_FLIGHT_BYTES + 1);
    const handed = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(handed);
    session.update(handed);
    expect(handed.buffer.byteLength).toBe(0); // moved to the worker, not copied
    const room = session.room();
    expect(room).not.toBeNull();
    await room;
    expect(session.room()).toBeNull();
    expect(await session.digest()).toBe(sha(bytes));
  });
});

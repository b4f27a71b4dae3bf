import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenRejected } from '../jwt/index.js';
import { createJwksCache } from './jwks-cache.js';

// The JWKS fetch runs inside a user's request: it must end on time whatever the
// issuer does, never follow a redirect, and never read an unbounded body.

interface Hits { [path: string]: number }

async function startServer(handler: (path: string, res: import('node:http').ServerResponse) => void) {
  const hits: Hits = {};
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    handler(path, res);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }) };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof TokenRejected ? error.reason : `other: ${(error as Error).message}`;
  }
  return 'accepted';
}

describe('JWKS cache fetch limits', () => {
  let target: Awaited<ReturnType<typeof startServer>>;
  let evil: Awaited<ReturnType<typeof startServer>>;
  let jwk: Record<string, unknown>;
  let token: string;
  let header: { alg: string; kid: string };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    header = { alg: 'ES256', kid: 'k1' };
    token = await new SignJWT({ sub: 's' }).setProtectedHeader(header).sign(pair.privateKey);
    // Where a redirect would lead: it must never be reached.
    target = await startServer((_path, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    evil = await startServer((path, res) => {
      if (path === '/redirect') return void res.writeHead(302, { location: `${target.base}/jwks.json` }).end();
      if (path === '/trickle') {
        // A byte every 100 ms: each gap is far below any per-chunk timeout, the whole never ends.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (path === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(`{"keys":[],"pad":"${'x'.repeat(512 * 1024)}"}`);
      }
      if (path === '/down') return void res.writeHead(500).end();
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await target?.close();
    await evil?.close();
  });

  const cache = (nowMs: () => number = () => Date.now()) => createJwksCache({ ttlMs: 3600_000, refetchIntervalMs: 60_000, clock: { nowMs }, timeoutMs: 500 });

  it('control: a well-behaved JWKS resolves the key', async () => {
    const key = await cache().resolver(`${target.base}/jwks.json`)(header, { payload: '', signature: '' } as never);
    expect(key).toBeDefined();
    expect(token.split('.')).toHaveLength(3);
  });

  it('does not follow a redirect', async () => {
    const before = target.hits['/jwks.json'] ?? 0;
    const reason = await rejection(Promise.resolve(cache().resolver(`${evil.base}/redirect`)(header, {} as never)));
    expect(reason).toBe('issuer_unavailable');
    expect(evil.hits['/redirect']).toBe(1);
    expect(target.hits['/jwks.json'] ?? 0).toBe(before);
  });

  it('ends a trickling fetch at the overall deadline', async () => {
    const started = Date.now();
    const reason = await rejection(Promise.resolve(cache().resolver(`${evil.base}/trickle`)(header, {} as never)));
    const took = Date.now() - started;
    expect(reason).toBe('issuer_unavailable');
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(2000);
  });

  it('refuses a body over the size limit', async () => {
    const reason = await rejection(Promise.resolve(cache().resolver(`${evil.base}/huge`)(header, {} as never)));
    expect(reason).toBe('issuer_unavailable');
  });

  it('after a failed fetch, fails fast until the refetch interval instead of refetching per request', async () => {
    let nowMs = 1_000_000;
    const c = cache(() => nowMs);
    const resolve = c.resolver(`${evil.base}/down`);
    expect(await rejection(Promise.resolve(resolve(header, {} as never)))).toBe('issuer_unavailable');
    const afterFirst = evil.hits['/down'];
    for (let i = 0; i < 5; i++) expect(await rejection(Promise.resolve(resolve(header, {} as never)))).toBe('issuer_unavailable');
    expect(evil.hits['/down']).toBe(afterFirst);
    nowMs += 60_001;
    expect(await rejection(Promise.resolve(resolve(header, {} as never)))).toBe('issuer_unavailable');
    expect(evil.hits['/down']).toBe(afterFirst! + 1);
  });
});

// The request log: one line per request, at its end, with what a person reading logs needs
// (method, URL, route, status, duration, request id, address) and no credential; a request whose
// client went away before the whole request arrived gets a line of its own.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

type Line = {
  msg?: string; reqId?: string; route?: string; responseTime?: number;
  req?: { method?: string; url?: string; ip?: string; request_id?: string };
  res?: { status?: number };
};

describe('request log', () => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp('sqlite', { listen: true }); });
  afterAll(async () => { await gh.close(); });

  const linesOf = (requestId: string) => gh.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.reqId === requestId);
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('logs one line per request: method, redacted URL, route, status, duration, request id; no key', async () => {
    const res = await fetch(`${gh.url}/storage/v1/bucket?apikey=${gh.secretKey}&x=1`, { headers: { apikey: gh.secretKey } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    await until(() => linesOf(requestId).length > 0);
    const lines = linesOf(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      route: '/storage/v1/bucket',
      req: { method: 'GET', url: '/storage/v1/bucket?apikey=[Redacted]&x=1', ip: '127.0.0.1', request_id: requestId },
      res: { status: 200 },
    });
    expect(typeof lines[0]!.responseTime).toBe('number');
    expect(gh.logs.join('\n')).not.toContain(gh.secretKey);
    expect(gh.logs.some((l) => l.includes('"incoming request"'))).toBe(false);
  });

  it('logs a request whose client leaves mid-body (no answer, so no completion line)', async () => {
    const made = await gh.app.inject({ method: 'POST', url: '/storage/v1/bucket', headers: { apikey: gh.secretKey }, payload: { id: 'files' } });
    expect(made.statusCode).toBe(200);
    const { hostname, port } = new URL(gh.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /storage/v1/object/files/gone.bin HTTP/1.1\r\nHost: x\r\napikey: ${gh.secretKey}\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\n`);
    socket.write(Buffer.alloc(1000));
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const aborted = () => gh.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request aborted' && l.req?.url === '/storage/v1/object/files/gone.bin');
    await until(() => aborted().length > 0);
    expect(aborted()).toHaveLength(1);
    expect(aborted()[0]).toMatchObject({ route: '/storage/v1/object/:bucket/*', req: { method: 'POST' } });
    expect(gh.logs.join('\n')).not.toContain(gh.secretKey);
  });
});

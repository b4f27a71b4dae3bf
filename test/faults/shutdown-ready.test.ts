// /ready turns 503 the moment a shutdown starts, while requests and streams are still draining:
// a load balancer that still reaches the instance (a connection it already holds) takes it out of
// rotation at once instead of when the last stream ends. New connections are refused outright
// (shutdown.test.ts); this looks at a request that still gets in, through Fastify's own request
// handler mounted on a second listener, since the drain closes the first one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { call } from './notes.js';

describe('readiness during the drain', () => {
  let dataDir: string;
  let fake: FakeLlm;
  let server: RunningServer;
  let side: http.Server;
  let sideUrl: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gh-faults-ready-'));
    fake = await startFakeLlm();
    const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent', GATEHOUSE_LLM_DEFERRED_SWEEP_MS: '0' } });
    server = await startServer(config);
    side = http.createServer(server.app.routing);
    await new Promise<void>((resolve) => side.listen(0, '127.0.0.1', resolve));
    sideUrl = `http://127.0.0.1:${(side.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    side.closeAllConnections();
    await new Promise((resolve) => side.close(resolve));
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 service_unavailable with Connection: close as soon as the shutdown starts, while a stream is still open', async () => {
    const key = server.firstRun!.secretKey;
    expect((await call(server.url, key, 'PUT', '/admin/v1/providers/openai', { base_url: `${fake.url}/openai`, api_key: FAKE_KEYS.openai })).status).toBe(200);
    expect((await fetch(`${sideUrl}/ready`)).status).toBe(200);

    fake.mode.stallBody = true;
    let streamEnded = false;
    const streamed = fetch(`${server.url}/llm/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { apikey: key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }).then((res) => res.text()).finally(() => (streamEnded = true));
    await new Promise<void>((resolve) => {
      const check = () => (fake.requests.length > 0 ? resolve() : setTimeout(check, 10));
      check();
    });

    const stopping = server.shutdown(1_500);
    const startedAt = performance.now();
    // The drain flips within the same few ticks as the signal: the first probe that arrives sees it.
    await new Promise((resolve) => setImmediate(resolve));
    const ready = await fetch(`${sideUrl}/ready`);
    expect(performance.now() - startedAt).toBeLessThan(500);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('connection')).toBe('close');
    expect(ready.headers.get('retry-after')).toBe('1');
    expect(((await ready.json()) as { error: string }).error).toBe('service_unavailable');
    expect(streamEnded).toBe(false);

    expect(await stopping).toBe('cut');
    expect(await streamed).toContain('"type":"server_shutdown"');
  }, 30_000);
});

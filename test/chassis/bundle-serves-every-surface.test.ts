// The built server runs from one esbuild bundle (scripts/build-server-bundle.mjs) that holds
// Fastify, undici, ws, jose, file-type… in place of their node_modules files. Every other test
// runs the sources, so this one drives each surface whose packages a bundle could break (a
// package that finds its own files, a lazily imported chunk, a CommonJS require of a builtin)
// through the built `bin/gatehouse.js`: auth (argon2, jose), the Data API (Kysely), storage with
// a multipart upload and content sniffing (busboy, file-type), realtime over a WebSocket (ws),
// the LLM proxy streaming from a fake provider (undici), the API docs (swagger, swagger-ui's own
// files) and the dashboard's static files.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// A 1×1 PNG: the sniffer must recognise it whatever type the client claims.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('the bundled server serves every surface', () => {
  let dataDir: string;
  let gh: GatehouseProcess;
  let fake: FakeLlm;
  let pk: string;
  let sk: string;
  let token: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs')], { stdio: 'ignore', timeout: 180_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'gh-bundle-'));
    fake = await startFakeLlm();
    gh = await spawnGatehouse({ dataDir, fromDist: true });
    pk = /publishable \(client side\): (\S+)/.exec(gh.output())![1]!;
    sk = gh.secretKey!;
    const signUp = await fetch(`${gh.url}/auth/v1/signup`, {
      method: 'POST', headers: { apikey: pk, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bundle@example.test', password: 'a-long-enough-password-1' }),
    });
    expect(signUp.status).toBe(200);
    token = ((await signUp.json()) as { access_token: string }).access_token;
  }, 240_000);

  afterAll(async () => {
    gh?.kill('SIGTERM');
    await gh?.exited;
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const asUser = () => ({ apikey: pk, authorization: `Bearer ${token}` });

  it('the Data API answers a signed-in user (Kysely, jose)', async () => {
    const res = await fetch(`${gh.url}/rest/v1/no_such_table?select=id`, { headers: asUser() });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBeTruthy();
  });

  it('storage takes a multipart upload, sniffs its type and serves it back (busboy, file-type)', async () => {
    const admin = createClient(gh.url, sk, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never } });
    expect((await admin.storage.createBucket('pics', { public: false, allowedMimeTypes: ['image/png'] })).error).toBeNull();
    const user = createClient(gh.url, pk, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never }, global: { headers: { Authorization: `Bearer ${token}` } } });
    // A Blob goes up as multipart form data.
    const up = await user.storage.from('pics').upload('me/dot.png', new Blob([PNG], { type: 'image/png' }));
    expect(up.error).toBeNull();
    const down = await user.storage.from('pics').download('me/dot.png');
    expect(Buffer.from(await down.data!.arrayBuffer()).equals(PNG)).toBe(true);
    // GIF bytes declared as a PNG: the sniffer (file-type, a lazily loaded chunk) sees a GIF, which the bucket refuses.
    const gif = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
    const lie = await user.storage.from('pics').upload('me/lie.png', gif, { contentType: 'image/png' });
    expect(lie.error?.message).toMatch(/image\/gif/);
  });

  it('realtime answers a Phoenix heartbeat over a WebSocket (ws)', async () => {
    const socket = new WebSocket(`${gh.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${pk}&vsn=2.0.0`);
    const reply = await new Promise<unknown[]>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}])));
      socket.once('message', (data) => resolve(JSON.parse(String(data)) as unknown[]));
    });
    socket.close();
    expect(reply).toEqual([null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
  });

  it('the LLM proxy streams a chat completion from the provider (undici)', async () => {
    const put = await fetch(`${gh.url}/admin/v1/providers/openai`, {
      method: 'PUT', headers: { apikey: sk, 'content-type': 'application/json' },
      body: JSON.stringify({ base_url: `${fake.url}/openai`, api_key: FAKE_KEYS.openai }),
    });
    expect(put.status).toBe(200);
    const res = await fetch(`${gh.url}/llm/openai/v1/chat/completions`, {
      method: 'POST', headers: { ...asUser(), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fake', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    expect(body).toContain('data: [DONE]');
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FAKE_KEYS.openai}`);
  });

  it('the API docs and the dashboard are served (swagger, swagger-ui files, dashboard files)', async () => {
    const spec = await fetch(`${gh.url}/docs/json`);
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    const ui = await fetch(`${gh.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const dashboard = await fetch(`${gh.url}/_/`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toContain('text/html');
  });
});

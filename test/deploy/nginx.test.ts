// deploy/nginx/gatehouse.conf: `nginx -t` accepts it, its limits match Gatehouse's, and nginx
// really runs with it in front of a Gatehouse: TLS (a throwaway certificate), the HTTP redirect,
// an LLM stream passed through event by event (not buffered), a client's forged X-Forwarded-For
// replaced (Gatehouse trusts only nginx), and a body over Gatehouse's limit refused with 413.
// The test changes only what a test machine needs: the certificate paths, the ports (free ones),
// the upstream address, and drops the IPv6 listens. Everything else is the file as shipped.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { DEPLOY, freePort, run, skipWithout, tool } from './tools.js';

const CONF = join(DEPLOY, 'nginx', 'gatehouse.conf');

function directive(conf: string, name: string): string[] {
  return [...conf.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((m) => m[1]!.trim());
}

/** The shipped file with a test machine's certificate, ports and upstream. */
function forTest(conf: string, o: { cert: string; key: string; https: number; http: number; upstream: string }): string {
  const out = conf
    .replace('/etc/ssl/gatehouse/fullchain.pem', o.cert)
    .replace('/etc/ssl/gatehouse/privkey.pem', o.key)
    .replace(/^\s*listen \[::\]:\d+.*;$/gm, '')
    .replace(/^(\s*)listen 443 /m, `$1listen 127.0.0.1:${o.https} `)
    .replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${o.http};`)
    .replace(/^(\s*)server 127\.0\.0\.1:8080;/m, `$1server ${o.upstream};`);
  // Each replacement must have happened: a changed shipped file must not pass by accident.
  for (const gone of ['/etc/ssl/gatehouse', 'listen 443', 'listen 80;', '127.0.0.1:8080', '[::]']) {
    if (out.includes(gone)) throw new Error(`forTest: "${gone}" was not replaced; update the test with the file`);
  }
  return out;
}

/** A whole nginx.conf around the site file, everything under `dir`. */
function mainConf(dir: string, site: string): string {
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
    `  include ${site};`,
    '}',
    '',
  ].join('\n');
}

describe('nginx front: settings that must match Gatehouse', () => {
  it('client_max_body_size is Gatehouse\'s body limit; the read timeout outlasts its LLM timeouts; buffering is off; X-Forwarded-For is replaced', async () => {
    const conf = await readFile(CONF, 'utf8');
    const defaults = loadConfig({ env: {} });
    const [size] = directive(conf, 'client_max_body_size');
    const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
    const [, n, unit] = /^(\d+)([kmg]?)$/i.exec(size!)!;
    expect(Number(n) * units[unit!.toLowerCase()]!).toBe(defaults.limits.anyBodyBytes);
    const [read] = directive(conf, 'proxy_read_timeout');
    expect(Number(/^(\d+)s$/.exec(read!)![1]) * 1000).toBeGreaterThan(Math.max(defaults.llm.headersTimeoutMs, defaults.llm.bodyIdleTimeoutMs));
    expect(directive(conf, 'proxy_buffering')).toEqual(['off']);
    expect(directive(conf, 'proxy_set_header').filter((h) => /^x-forwarded-for\s/i.test(h))).toEqual(['X-Forwarded-For $remote_addr']);
    expect(directive(conf, 'proxy_next_upstream')).toEqual(['error timeout']);
  });
});

describe.skipIf(skipWithout('nginx') || skipWithout('openssl'))('nginx front, for real', () => {
  let dir: string;
  let gh: TestApp;
  let fake: FakeLlm;
  let nginx: ChildProcess | undefined;
  let ca: Buffer;
  let httpsPort: number;
  let httpPort: number;
  let mainPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-nginx-'));
    // nginx's workers (nobody when the test runs as root) must reach the temp dirs.
    await chmod(dir, 0o755);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = await run(tool('openssl'), ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert]);
    expect(made.code, made.stderr).toBe(0);
    ca = await readFile(cert);

    fake = await startFakeLlm();
    gh = await startTestApp('sqlite', { listen: true, env: { GATEHOUSE_TRUST_PROXY: '127.0.0.1' } });
    const put = await gh.app.inject({ method: 'PUT', url: '/admin/v1/providers/openai', headers: { apikey: gh.secretKey }, payload: { base_url: `${fake.url}/openai`, api_key: FAKE_KEYS.openai } });
    expect(put.statusCode).toBe(200);

    httpsPort = await freePort();
    httpPort = await freePort();
    const site = join(dir, 'gatehouse.conf');
    await writeFile(site, forTest(await readFile(CONF, 'utf8'), { cert, key, https: httpsPort, http: httpPort, upstream: new URL(gh.url).host }));
    mainPath = join(dir, 'nginx.conf');
    await writeFile(mainPath, mainConf(dir, site));
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await gh?.close();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('nginx -t accepts the file', async () => {
    const result = await run(tool('nginx'), ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', mainPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('test is successful');
  });

  it('in front of Gatehouse: TLS, redirect, streams unbuffered, forged X-Forwarded-For replaced, 413 over the body limit', async () => {
    nginx = spawn(tool('nginx'), ['-p', dir, '-e', join(dir, 'error.log'), '-c', mainPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitForPort(httpsPort, () => `nginx did not start: ${stderr}`);

    const health = await request({ path: '/health' });
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=63072000');
    expect(health.body).toBe('{"status":"ok"}');

    const redirect = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: httpPort, path: '/health', headers: { host: 'gatehouse.example.com' } }, (res) => resolve(res.resume())).on('error', reject);
    });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('https://gatehouse.example.com/health');

    // Forged: the client claims another address. Gatehouse must see the one nginx saw.
    const forged = await request({ path: '/health', headers: { 'x-forwarded-for': '203.0.113.9' } });
    const requestId = String(forged.headers['x-request-id']);
    const seen = gh.logs.map((l) => JSON.parse(l) as { reqId?: string; req?: { ip?: string } }).find((l) => l.reqId === requestId && l.req?.ip);
    expect(seen?.req?.ip).toBe('127.0.0.1');

    // A stream: 5 events 200 ms apart must arrive spread out, not all at the end.
    fake.mode.chunkDelayMs = 200;
    fake.mode.streamChunks = 5;
    const arrivals: number[] = [];
    const started = performance.now();
    const streamed = await request({
      method: 'POST', path: '/llm/openai/v1/chat/completions',
      headers: { apikey: gh.secretKey, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      onData: () => arrivals.push(performance.now() - started),
    });
    fake.mode.chunkDelayMs = 0;
    expect(streamed.status).toBe(200);
    expect(streamed.body).toContain('data: [DONE]');
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(600);

    // One byte over Gatehouse's limit: refused by nginx before Gatehouse reads any of it.
    const limit = loadConfig({ env: {} }).limits.anyBodyBytes;
    const tooBig = await request({ method: 'POST', path: '/llm/openai/v1/files', headers: { apikey: gh.secretKey, 'content-type': 'application/octet-stream', 'content-length': String(limit + 1) }, body: '', noBody: true });
    expect(tooBig.status).toBe(413);
  }, 60_000);

  function request(o: { method?: string; path: string; headers?: Record<string, string>; body?: string; noBody?: boolean; onData?: () => void }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: httpsPort, servername: 'localhost', ca, method: o.method ?? 'GET', path: o.path, headers: { host: 'gatehouse.example.com', ...o.headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          o.onData?.();
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      // A request announcing a body it never sends: nginx answers 413 from the header alone.
      if (o.noBody) req.flushHeaders();
      else req.end(o.body);
    });
  }
});

async function waitForPort(port: number, why: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(why());
}

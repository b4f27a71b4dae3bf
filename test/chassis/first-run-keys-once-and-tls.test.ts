import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { generateMasterKey } from '../../src/crypto/index.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';

let server: RunningServer | undefined;
let child: GatehouseProcess | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (child?.alive()) {
    child.kill('SIGKILL');
    await child.exited;
  }
  child = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-server-'));
  dirs.push(dir);
  return dir;
}

describe('first run', () => {
  it('creates the default project and prints its dev keys once, with a curl line', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' } });
    const lines: string[] = [];
    server = await startServer(config, { print: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(server.firstRun?.project).toBe('default');
    expect(text).toContain(server.firstRun!.publishableKey);
    expect(text).toContain(server.firstRun!.secretKey);
    expect(text).toMatch(new RegExp(`curl -s ${server.url}/admin/v1/project -H "apikey: sk_dev_`));
    const res = await fetch(`${server.url}/admin/v1/project`, { headers: { apikey: server.firstRun!.secretKey } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe('default');
    await server.close();

    // The keys are not shown again. While no dashboard operator exists, each start shows a fresh
    // one-time setup link instead (the first one's token is stored hashed and cannot be shown twice).
    const link = /^ {4}http:\/\/127\.0\.0\.1:\d+\/_\/setup#token=[A-Za-z0-9_-]{43}$/;
    expect(lines.filter((l) => link.test(l))).toHaveLength(1);
    const again: string[] = [];
    server = await startServer(config, { print: (l) => again.push(l) });
    expect(server.firstRun).toBeUndefined();
    expect(again.join('\n')).not.toMatch(/sk_|pk_/);
    expect(again.filter((l) => l.trim() !== '')).toEqual([expect.stringContaining('No dashboard operator yet'), expect.stringMatching(link)]);
    await server.deps.operators.add({ email: 'ops@example.com', password: 'correct horse battery staple', roles: [] });
    await server.close();

    const third: string[] = [];
    server = await startServer(config, { print: (l) => third.push(l) });
    expect(third).toEqual([]);
  });
});

describe('first run in production', () => {
  // Its stdout is the log that others read and keep: no key may appear there.
  it('creates no key and prints nothing secret, only how to get keys with `gatehouse init`', async () => {
    const dataDir = tempDir();
    const production = {
      GATEHOUSE_MODE: 'production', GATEHOUSE_MASTER_KEY: generateMasterKey(), GATEHOUSE_MAILER: 'smtp',
      GATEHOUSE_SMTP_URL: 'smtps://user:pass@mail.example.com', GATEHOUSE_PUBLIC_URL: 'https://api.example.com',
    };
    child = await spawnGatehouse({ dataDir, env: production });
    const output = child.output();
    expect(output).not.toMatch(/sk_|pk_/);
    // Nor a setup link: stdout is not a terminal here.
    expect(output).not.toContain('/_/setup');
    expect(child.logs().some((l) => /no dashboard operator yet.*gatehouse operators add/.test(String(l.msg)))).toBe(true);
    expect(child.secretKey).toBeUndefined();
    expect(child.logs().some((l) => /no project yet.*gatehouse init/.test(String(l.msg)))).toBe(true);
    // Nothing was created that a key could open.
    const res = await fetch(`${child.url}/admin/v1/project`, { headers: { apikey: 'sk_dev_x' } });
    expect(res.status).toBe(401);
    child.kill('SIGTERM');
    await child.exited;
    const { createDeps } = await import('../../src/deps.js');
    const deps = await createDeps(loadConfig({ env: { ...production, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_LEVEL: 'silent' } }));
    try {
      expect(await deps.projects.list()).toEqual([]);
    } finally {
      await deps.close();
    }
  });
});

describe('built-in TLS', () => {
  it('serves HTTPS with HSTS and refuses TLS below 1.2', async () => {
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
      '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const config = loadConfig({ env: {
      GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent',
      GATEHOUSE_TLS_CERT: join(dir, 'cert.pem'), GATEHOUSE_TLS_KEY: join(dir, 'key.pem'),
    } });
    server = await startServer(config);
    expect(server.url).toMatch(/^https:\/\//);
    const port = Number(new URL(server.url).port);

    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/health', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.headers);
      }).on('error', reject).end();
    });
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

    const oldTls = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    });
    expect(oldTls).not.toBe('connected');
  });
});

// Issue 13 §3: the CLI reaches a running server (local or deployed, SQLite or PostgreSQL) through
// its admin API with --url / GATEHOUSE_URL and a secret key from GATEHOUSE_SECRET_KEY or
// --secret-key-file, never from argv. It acts as that key (audited as key:<id>), shows the
// server's errors in plain words, and keeps the key to itself.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { runCliIn, runRemote } from './run-cli.js';

describe.each(engines())('the CLI against a running server (%s)', (engine) => {
  let gh: TestApp;
  let scratch: string;
  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true });
  });
  afterAll(async () => { await gh?.close(); });
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'gh-remote-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  const remote = (args: string[], stdin?: string) => runRemote(gh, args, stdin === undefined ? {} : { stdin });
  const json = async (args: string[], stdin?: string) => {
    const res = await remote(['--json', ...args], stdin);
    expect(res.code, `${args.join(' ')}: ${res.err}`).toBe(0);
    return JSON.parse(res.out);
  };
  const secretKeyId = async () => (await gh.deps.apiKeys.verify(gh.secretKey)).id;
  const adminRequests = () => gh.logs.filter((l) => l.includes('/admin/v1')).length;

  it('schema apply and policy test act on the server\'s project, as its secret key', async () => {
    const file = join(scratch, 'schema.json');
    writeFileSync(file, JSON.stringify({ tables: { notes: { columns: { body: { type: 'text' }, shared: { type: 'boolean' } }, rules: { select: ['self', 'shared == true'] } } } }));
    const plan = await json(['schema', 'apply', file, '--dry-run']);
    expect(plan).toMatchObject({ applied: false, steps: [expect.stringContaining('notes')] });
    expect(await gh.deps.data.schema.document(gh.project.id, 'dev')).toEqual({ tables: {} });
    expect(await json(['schema', 'apply', file])).toMatchObject({ applied: true, destructive: false, problems: [] });
    expect(Object.keys((await gh.deps.data.schema.document(gh.project.id, 'dev')).tables)).toEqual(['notes']);
    const decision = await json(['policy', 'test', 'notes', 'select', '--group', 'user', '--user', 'usr_x', '--row', '{"created_by":"usr_y","shared":true}']);
    expect(decision).toMatchObject({ decision: 'allow' });
    const audit = (await gh.deps.audit.list(gh.project.id, 'dev', { limit: 100 })).filter((e) => e.action === 'data.schema.apply');
    expect(audit.map((e) => e.actor)).toEqual([`key:${await secretKeyId()}`]);
  });

  it('keys, providers, limits and users work through --url', async () => {
    const created = await json(['keys', 'create', '-k', 'publishable', '-n', 'web']);
    expect(created).toMatchObject({ key: expect.stringMatching(/^pk_dev_/), kind: 'publishable', name: 'web', created_by: `key:${await secretKeyId()}` });
    expect((await json(['keys', 'list'])).keys.map((k: { id: string }) => k.id)).toContain(created.id);
    const rotated = await json(['keys', 'rotate', created.id, '--grace', '60']);
    expect(rotated.previous).toMatchObject({ id: created.id, status: 'expiring' });
    expect(await json(['keys', 'revoke', rotated.id])).toMatchObject({ id: rotated.id, status: 'revoked' });

    expect(await json(['providers', 'set', 'openai', '--key-stdin'], 'sk-provider-remote-0001\n')).toMatchObject({ name: 'openai', has_key: true, key_last_four: '0001' });
    expect((await json(['providers', 'list'])).providers).toEqual([expect.objectContaining({ name: 'openai' })]);
    expect(await json(['providers', 'quotas', '--day', '1000'])).toEqual({ tokens_per_day: 1000, tokens_per_month: null });
    expect(await json(['providers', 'quotas', '--month', '9000'])).toEqual({ tokens_per_day: 1000, tokens_per_month: 9000 });
    expect((await remote(['providers', 'remove', 'openai'])).code).toBe(0);

    const set = await json(['limits', 'set', '--class', 'llm', '--tier', 'user', '-w', '5/1m']);
    expect(set.effective.classes.llm.tiers.user).toEqual([{ limit: 5, windowMs: 60_000 }]);
    // A second change to another class keeps the first: merged, not replaced.
    const second = await json(['limits', 'set', '--class', 'data_read', '--fail-mode', 'closed']);
    expect(second.policy).toEqual({ llm: { tiers: { user: [{ limit: 5, windowMs: 60_000 }] } }, data_read: { failMode: 'closed' } });
    expect(await json(['limits', 'override', 'set', 'user:usr_x', '--class', 'llm', '-w', '100/1m'])).toMatchObject({ subject: 'user:usr_x', limits: { llm: [{ limit: 100, windowMs: 60_000 }] } });
    expect(await json(['limits', 'override', 'set', 'user:usr_x', '--class', 'auth', '-w', '7/1m'])).toMatchObject({ limits: { llm: [{ limit: 100, windowMs: 60_000 }], auth: [{ limit: 7, windowMs: 60_000 }] } });
    expect((await remote(['limits', 'override', 'remove', 'user:usr_x'])).code).toBe(0);
    expect((await json(['limits', 'reset', '--class', 'llm'])).effective.classes.data_read.failMode).toBe('closed');
    expect((await json(['limits', 'show'])).policy).toEqual({ data_read: { failMode: 'closed' } });
    expect((await remote(['limits', 'reset'])).code).toBe(0);
    expect((await json(['limits', 'show'])).policy).toBeNull();

    const user = await json(['users', 'create', '--email', 'Ada@Example.test', '--password-stdin'], 'a long remote passphrase\n');
    expect(user).toMatchObject({ email: 'ada@example.test', role: 'authenticated' });
    expect((await json(['users', 'set-role', 'ADA@example.test', '-r', 'admin'])).role).toBe('admin');
    expect((await json(['users', 'list'])).users).toEqual([expect.objectContaining({ id: user.id, role: 'admin' })]);
    expect(await json(['users', 'revoke-sessions', user.id])).toEqual({ revoked: 0 });
    const ghost = await remote(['users', 'set-role', 'usr_aaaaaaaaaaaaaaaaaaaa', '-r', 'admin']);
    expect(ghost.code).toBe(1);
    expect(ghost.err).toBe('error: No user "usr_aaaaaaaaaaaaaaaaaaaa" in this project environment.\n');
  });

  it('the secret key is never printed nor logged, and can come from --secret-key-file instead of the environment', async () => {
    const file = join(scratch, 'key');
    writeFileSync(file, `${gh.secretKey}\n`, { mode: 0o600 });
    const res = await runCliIn({ env: { GATEHOUSE_URL: gh.url } }, ['--secret-key-file', file, 'keys', 'list']);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toContain('sk_dev_…');
    const failed = await runRemote(gh, ['keys', 'revoke', 'key_aaaaaaaaaaaaaaaaaaaa']);
    for (const text of [res.out, res.err, failed.out, failed.err, ...gh.logs]) expect(text).not.toContain(gh.secretKey);
  });

  it('a publishable key is refused with a clear message, before any request', async () => {
    const before = adminRequests();
    const res = await runRemote({ url: gh.url, secretKey: gh.publishableKey }, ['keys', 'list']);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/publishable key \(pk_…\).*secret key \(sk_…\)/);
    expect(res.err).not.toContain(gh.publishableKey);
    expect(adminRequests()).toBe(before);
  });

  it('no secret key: refused, naming where it goes (never argv)', async () => {
    const res = await runCliIn({ env: { GATEHOUSE_URL: gh.url } }, ['keys', 'list']);
    expect(res.code).toBe(2);
    expect(res.err).toContain('GATEHOUSE_SECRET_KEY');
    expect(res.err).toContain('--secret-key-file');
  });

  it('the server\'s errors are shown in plain words with the request id, exit 1', async () => {
    const missing = await remote(['keys', 'revoke', 'key_aaaaaaaaaaaaaaaaaaaa']);
    expect(missing.code).toBe(1);
    const [first, second] = missing.err.split('\n');
    expect(first).toBe('error: No such key in this project environment.');
    expect(second).toMatch(/^ {2}\(HTTP 404 not_found, request id \S+\)$/);
    const tampered = `${gh.secretKey.slice(0, -1)}${gh.secretKey.endsWith('A') ? 'B' : 'A'}`;
    const refused = await runRemote({ url: gh.url, secretKey: tampered }, ['keys', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: The API key is not valid\.\n {2}\(HTTP 401 invalid_api_key/);
  });

  it('-p or -e naming another project environment than the key\'s is refused, and nothing changes', async () => {
    const other = await gh.createProject(`other${engine}`);
    const wrongProject = await remote(['keys', 'create', '-k', 'secret', '-p', other.project.name]);
    expect(wrongProject.code).toBe(2);
    expect(wrongProject.err).toContain(`belongs to project "${gh.project.name}"`);
    const wrongEnv = await remote(['keys', 'create', '-k', 'secret', '-p', gh.project.id, '-e', 'prod']);
    expect(wrongEnv.code).toBe(2);
    expect(wrongEnv.err).toContain('belongs to the dev environment, not prod');
    expect(await gh.deps.apiKeys.list(gh.project.id, 'prod')).toEqual([]);
    // Naming the key's own project (by name or id) and environment is fine.
    expect((await remote(['keys', 'list', '-p', gh.project.name, '-e', 'dev'])).code).toBe(0);
  });

  it('--data-dir means local mode even with GATEHOUSE_URL set; --data-dir with --url is refused', async () => {
    const local = await runCliIn({ env: { GATEHOUSE_URL: gh.url, ...(gh.config.databaseUrl ? { DATABASE_URL: gh.config.databaseUrl } : {}) } }, ['--json', 'keys', 'list', '-p', gh.project.id, '--data-dir', gh.config.dataDir]);
    expect(local.code, local.err).toBe(0);
    // GATEHOUSE_DATA_DIR beside GATEHOUSE_URL (one shell serving and using Gatehouse): local too.
    const dirFromEnv = await runCliIn({ env: { GATEHOUSE_URL: gh.url, GATEHOUSE_DATA_DIR: gh.config.dataDir, ...(gh.config.databaseUrl ? { DATABASE_URL: gh.config.databaseUrl } : {}) } }, ['--json', 'keys', 'list', '-p', gh.project.id]);
    expect(dirFromEnv.code, dirFromEnv.err).toBe(0);
    expect(dirFromEnv.out).toBe(local.out);
    // ... unless --url is given as a flag: the command line says remote.
    const flagWins = await runCliIn({ env: { GATEHOUSE_SECRET_KEY: gh.secretKey, GATEHOUSE_DATA_DIR: gh.config.dataDir } }, ['--json', 'keys', 'list', '--url', gh.url]);
    expect(flagWins.code, flagWins.err).toBe(0);
    const both = await remote(['keys', 'list', '--url', gh.url, '--data-dir', gh.config.dataDir]);
    expect(both.code).toBe(2);
    expect(both.err).toContain('not both');
    // The server shares the shell: the CLI's variables are not unknown settings to it.
    expect(() => loadConfig({ env: { GATEHOUSE_URL: gh.url, GATEHOUSE_SECRET_KEY: gh.secretKey } })).not.toThrow();
  });

  it('commands on the server\'s own storage refuse --url', async () => {
    for (const args of [['init'], ['projects', 'list'], ['projects', 'create', 'x'], ['master-key', 'rotate'], ['backup', join(scratch, 'b.db')], ['start', '--url', gh.url]]) {
      const res = await remote(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.err).toContain('not through --url');
    }
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe('where the secret key may go', () => {
  const key = 'sk_dev_not-a-real-key-but-secret-all-the-same';
  let seen: Array<{ url: string; headers: IncomingHttpHeaders }>;
  let elsewhere: Server;
  let redirector: Server;
  let elsewhereUrl = '';
  let redirectorUrl = '';
  const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  beforeAll(async () => {
    elsewhere = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });
    elsewhereUrl = await listen(elsewhere);
    redirector = createServer((req, res) => res.writeHead(307, { location: `${elsewhereUrl}${req.url ?? ''}` }).end());
    redirectorUrl = await listen(redirector);
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(async () => {
    await new Promise((r) => elsewhere.close(r));
    await new Promise((r) => redirector.close(r));
  });

  it('a redirect is not followed: the key is not sent on', async () => {
    const res = await runRemote({ url: redirectorUrl, secretKey: key }, ['keys', 'list']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('answered with a redirect');
    expect(res.err).not.toContain(key);
    expect(seen).toEqual([]);
  });

  it('plain http to another machine is refused unless --allow-http says the network is trusted', async () => {
    const res = await runRemote({ url: 'http://gatehouse.example.com', secretKey: key }, ['keys', 'list']);
    expect(res.code).toBe(2);
    expect(res.err).toContain('plain http');
    expect(res.err).toContain('https');
    for (const bad of ['ftp://gatehouse.example.com', 'https://user:pw@gatehouse.example.com', 'not a url']) {
      expect((await runRemote({ url: bad, secretKey: key }, ['keys', 'list'])).code, bad).toBe(2);
    }
    // Loopback is this machine: plain http is fine there, and the key goes in the apikey header.
    expect((await runRemote({ url: `${elsewhereUrl}/`, secretKey: key }, ['keys', 'list'])).code).toBe(0);
    expect(seen).toEqual([expect.objectContaining({ url: '/admin/v1/keys', headers: expect.objectContaining({ apikey: key }) })]);
  });

  it('an unreachable server is a plain "cannot reach", exit 1', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise((r) => closed.close(r));
    const res = await runRemote({ url, secretKey: key }, ['keys', 'list']);
    expect(res.code).toBe(1);
    expect(res.err).toBe(`error: cannot reach ${url}: connection refused (is the server running there?)\n`);
  });
});

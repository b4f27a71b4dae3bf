// The admin API and the CLI are two front ends over one operations layer: the same act, through
// either, is validated by the same rule and leaves the same audit entry (only the actor differs:
// key:<id> over HTTP, cli from the command line). Each test below ran one way through each front
// end before the layer existed, and drifted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { runCliOn, type CliResult } from '../harness/cli.js';
import { engines } from '../harness/engines.js';
import { runRemote } from '../cli/run-cli.js';

describe.each(engines())('admin API and CLI act alike (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true });
  });
  afterAll(async () => { await gh?.close(); });

  type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
  const http = (method: Method, url: string, payload?: object) =>
    gh.app.inject({ method, url: `/admin/v1${url}`, headers: { apikey: gh.secretKey }, ...(payload ? { payload } : {}) });
  const cli = (args: string[], stdin?: string): Promise<CliResult> =>
    runCliOn(gh.config, [...args, '-p', gh.project.id], stdin === undefined ? {} : { stdin });
  /** The same command through the admin API of the running server (--url), as its secret key. */
  const remoteCli = (args: string[], stdin?: string): Promise<CliResult> => runRemote(gh, args, stdin === undefined ? {} : { stdin });
  const audit = async () => gh.deps.audit.list(gh.project.id, 'dev', { limit: 1000 });
  /** The newest entries of an action, newest first, with the actor kept apart from what was done. */
  const entriesOf = async (action: string) => (await audit()).filter((e) => e.action === action);
  const secretKeyId = async () => (await gh.deps.apiKeys.verify(gh.secretKey)).id;

  it('rotation grace is capped at 30 days through both, with the same error, and nothing rotates', async () => {
    const created = (await http('POST', '/keys', { kind: 'publishable', name: 'app' })).json() as { id: string };
    const over = 30 * 86400 + 1;
    const viaHttp = await http('POST', `/keys/${created.id}/rotate?grace_seconds=${over}`);
    expect(viaHttp.statusCode).toBe(400);
    expect(viaHttp.json()).toMatchObject({ error: 'validation_failed', details: [{ field: 'grace_seconds' }] });
    const viaCli = await cli(['keys', 'rotate', created.id, '--grace', String(over)]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.err).toBe(`error: ${viaHttp.json().message}\n`);
    expect((await gh.deps.apiKeys.get(gh.project.id, 'dev', created.id))?.status).toBe('active');
    expect(await entriesOf('api_key.rotate')).toEqual([]);
    // The cap itself still rotates, through either.
    expect((await http('POST', `/keys/${created.id}/rotate?grace_seconds=${over - 1}`)).statusCode).toBe(201);
  });

  it('api_key.create audits the kind and scopes through both', async () => {
    const viaHttp = (await http('POST', '/keys', { kind: 'secret', scopes: ['admin:keys', 'llm:*'] })).json() as { id: string };
    const viaCli = await cli(['--json', 'keys', 'create', '-k', 'secret', '-s', 'admin:keys', '-s', 'llm:*']);
    expect(viaCli.code, viaCli.err).toBe(0);
    const cliKey = JSON.parse(viaCli.out) as { id: string };
    const [fromCli, fromHttp] = await entriesOf('api_key.create');
    expect(fromHttp).toMatchObject({ actor: `key:${await secretKeyId()}`, target: viaHttp.id });
    expect(fromCli).toMatchObject({ actor: 'cli', target: cliKey.id });
    expect(fromCli!.details).toEqual({ kind: 'secret', scopes: ['admin:keys', 'llm:*'] });
    expect(fromCli!.details).toEqual(fromHttp!.details);
  });

  it('llm_provider.put audits the same details through both, never the key', async () => {
    const key = 'sk-provider-key-for-drift-0001';
    expect((await http('PUT', '/providers/openai', { api_key: key, endpoints_remove: ['POST /v1/images/generations'] })).statusCode).toBe(200);
    const viaCli = await cli(['providers', 'set', 'openai', '--key-stdin', '--deny', 'POST /v1/images/generations'], `${key}\n`);
    expect(viaCli.code, viaCli.err).toBe(0);
    const [fromCli, fromHttp] = await entriesOf('llm_provider.put');
    expect(fromCli!.actor).toBe('cli');
    expect(fromCli!.details).toEqual(fromHttp!.details);
    expect(fromCli!.details).toMatchObject({ kind: 'openai', key_changed: true, has_key: true, endpoints_remove: ['POST /v1/images/generations'], enabled: true });
    expect(JSON.stringify(await audit())).not.toContain(key);
  });

  it('llm_quotas.put audits the same field names through both', async () => {
    expect((await http('PUT', '/llm/quotas', { tokens_per_day: 1000, tokens_per_month: null })).statusCode).toBe(200);
    expect((await cli(['providers', 'quotas', '--day', '1000', '--month', 'none'])).code).toBe(0);
    const [fromCli, fromHttp] = await entriesOf('llm_quotas.put');
    expect(fromHttp!.details).toEqual({ tokens_per_day: 1000, tokens_per_month: null });
    expect(fromCli!.details).toEqual(fromHttp!.details);
  });

  it('data.schema.apply audits its steps and allow_data_loss through both', async () => {
    const schema = { tables: { notes: { columns: { body: { type: 'text' } }, rules: { select: ['self'] } } } };
    expect((await http('PUT', '/schema', { schema })).json()).toMatchObject({ applied: true });
    const next = { tables: { ...schema.tables, lists: { columns: { title: { type: 'text' } }, rules: { select: ['self'] } } } };
    const file = join(mkdtempSync(join(tmpdir(), 'gh-drift-')), 'schema.json');
    writeFileSync(file, JSON.stringify(next));
    const viaCli = await cli(['schema', 'apply', file]);
    expect(viaCli.code, viaCli.err).toBe(0);
    const [fromCli, fromHttp] = await entriesOf('data.schema.apply');
    expect(fromHttp!.details).toMatchObject({ allow_data_loss: false, steps: [expect.stringContaining('notes')] });
    expect(fromCli!.details).toMatchObject({ allow_data_loss: false, steps: [expect.stringContaining('lists')] });
    expect(Object.keys(fromCli!.details as object).sort()).toEqual(Object.keys(fromHttp!.details as object).sort());
  });

  it('rotating the signing key records the security event through both', async () => {
    expect((await http('POST', '/auth/signing-keys/rotate')).statusCode).toBe(201);
    const viaCli = await cli(['--json', 'auth', 'rotate-signing-key']);
    expect(viaCli.code, viaCli.err).toBe(0);
    await gh.deps.events.flush();
    const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'signing_key_rotated' });
    expect(events.map((e) => (e.details as { kid: string }).kid)).toContain(JSON.parse(viaCli.out).kid);
    expect(events).toHaveLength(2);
    expect((await entriesOf('signing_key.rotate')).map((e) => e.actor)).toEqual(['cli', `key:${await secretKeyId()}`]);
  });

  it('dropping a rate-limit policy that is not there audits nothing, through either', async () => {
    expect((await http('DELETE', '/limits/policy')).statusCode).toBe(200);
    expect((await cli(['limits', 'reset'])).code).toBe(0);
    expect((await cli(['limits', 'reset', '--class', 'llm'])).code).toBe(0);
    expect(await entriesOf('rate_limits.policy.clear')).toEqual([]);
    // Something to drop: one entry each.
    expect((await cli(['limits', 'set', '--class', 'llm', '-w', '5/1m'])).code).toBe(0);
    expect((await cli(['limits', 'reset', '--class', 'llm'])).code).toBe(0);
    expect((await http('PUT', '/limits/policy', { llm: { failMode: 'closed' } })).statusCode).toBe(200);
    expect((await http('DELETE', '/limits/policy')).statusCode).toBe(200);
    expect((await entriesOf('rate_limits.policy.clear')).map((e) => [e.actor, e.target])).toEqual([[`key:${await secretKeyId()}`, null], ['cli', 'llm']]);
  });

  it('removing what is not there is the same not_found through both', async () => {
    const cases: Array<[Method, string, string[]]> = [
      ['DELETE', '/providers/ghost', ['providers', 'remove', 'ghost']],
      ['DELETE', '/auth/issuers/iss_aaaaaaaaaaaaaaaaaaaa', ['auth', 'issuers', 'remove', 'iss_aaaaaaaaaaaaaaaaaaaa']],
      ['DELETE', '/limits/overrides/user:usr_ghost', ['limits', 'override', 'remove', 'user:usr_ghost']],
    ];
    for (const [method, url, args] of cases) {
      const viaHttp = await http(method, url);
      expect(viaHttp.statusCode, url).toBe(404);
      const viaCli = await cli(args);
      expect(viaCli.code, args.join(' ')).toBe(1);
      expect(viaCli.err).toBe(`error: ${viaHttp.json().message}\n`);
    }
  });
  // The CLI's remote mode (--url) is a third front end: each command calls the same named act on
  // a target, local (operations) or remote (admin API), and prints what it returns. On the same
  // data, the same command prints the same thing both ways, to the byte.
  it('reading commands print the same output locally and through --url', async () => {
    expect((await cli(['providers', 'set', 'openai', '--key-stdin'], 'sk-provider-key-for-drift-0002\n')).code).toBe(0);
    expect((await cli(['limits', 'override', 'set', 'user:usr_reader', '--class', 'llm', '-w', '9/1m'])).code).toBe(0);
    expect((await cli(['users', 'create', '--email', 'reader@example.test', '--password-stdin'], 'a long drift passphrase\n')).code).toBe(0);
    const reads = [
      ['providers', 'list'], ['providers', 'quotas'], ['limits', 'show'], ['limits', 'override', 'list'], ['users', 'list'],
      ['auth', 'issuers', 'list'], ['llm', 'request-log', 'show'], ['schema', 'show'],
    ];
    for (const read of reads) {
      for (const args of [read, ['--json', ...read]]) {
        const local = await cli(args);
        const remote = await remoteCli(args);
        expect(local.code, `${args.join(' ')}: ${local.err}`).toBe(0);
        expect(remote, args.join(' ')).toEqual(local);
      }
    }
    // Keys too, but the remote call itself marks the secret key used (written behind): compare the rest.
    const lastUsed = (text: string) => JSON.parse(text).keys.map((k: { last_used_at: unknown }) => ({ ...k, last_used_at: null }));
    expect(lastUsed((await remoteCli(['--json', 'keys', 'list'])).out)).toEqual(lastUsed((await cli(['--json', 'keys', 'list'])).out));
  });

  it('changing commands print the same output locally and through --url, from the same state', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gh-drift-')), 'schema.json');
    writeFileSync(file, JSON.stringify({ tables: { pages: { columns: { title: { type: 'text' } }, rules: { select: ['self'] } } } }));
    // Each pair runs locally, is undone, and runs remotely: the outputs must match.
    const pairs: Array<{ args: string[]; undo: string[]; stdin?: string }> = [
      { args: ['limits', 'set', '--class', 'llm', '--tier', 'user', '-w', '5/1m', '-w', '50/1h'], undo: ['limits', 'reset'] },
      { args: ['limits', 'set', '--class', 'auth', '--fail-mode', 'closed'], undo: ['limits', 'reset', '--class', 'auth'] },
      { args: ['providers', 'quotas', '--day', '1200'], undo: ['providers', 'quotas', '--day', 'none', '--month', 'none'] },
      { args: ['llm', 'request-log', 'enable', '--retention-days', '3', '--max-body-bytes', '100'], undo: ['llm', 'request-log', 'disable'] },
      { args: ['auth', 'signup-mode', 'invite'], undo: ['auth', 'signup-mode', 'open'] },
      { args: ['schema', 'apply', file, '--dry-run'], undo: ['schema', 'show'] },
    ];
    for (const { args, undo } of pairs) {
      for (const shaped of [args, ['--json', ...args]]) {
        const local = await cli(shaped);
        expect(local.code, `${shaped.join(' ')}: ${local.err}`).toBe(0);
        expect((await cli(undo)).code).toBe(0);
        const remote = await remoteCli(shaped);
        expect((await cli(undo)).code).toBe(0);
        // llm request-log stamps who changed it: cli locally, key:<id> remotely.
        const same = (text: string) => text.replace(/"updated_by": "[^"]*"|"updated_at": "[^"]*"/g, '');
        expect(same(remote.out), shaped.join(' ')).toBe(same(local.out));
        expect(remote.err).toBe(local.err);
      }
    }
  });

  it('refusals read the same locally and through --url (the remote adds the request id on a second line)', async () => {
    const created = (await http('POST', '/keys', { kind: 'publishable', name: 'drift' })).json() as { id: string };
    const refusals = [
      ['providers', 'remove', 'ghost'],
      ['auth', 'issuers', 'remove', 'iss_aaaaaaaaaaaaaaaaaaaa'],
      ['limits', 'override', 'remove', 'user:usr_ghost'],
      ['keys', 'revoke', 'key_aaaaaaaaaaaaaaaaaaaa'],
      ['keys', 'rotate', created.id, '--grace', String(30 * 86400 + 1)],
      ['users', 'set-role', 'nobody@example.test', '-r', 'admin'],
      ['policy', 'test', 'ghost_table', 'select'],
    ];
    for (const args of refusals) {
      const local = await cli(args);
      const remote = await remoteCli(args);
      expect(local.code, args.join(' ')).toBe(1);
      expect(remote.code, args.join(' ')).toBe(1);
      expect(remote.err.split('\n')[0], args.join(' ')).toBe(local.err.split('\n')[0]);
    }
  });
});

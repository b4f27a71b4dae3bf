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

describe.each(engines())('admin API and CLI act alike (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine);
  });
  afterAll(async () => { await gh?.close(); });

  type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
  const http = (method: Method, url: string, payload?: object) =>
    gh.app.inject({ method, url: `/admin/v1${url}`, headers: { apikey: gh.secretKey }, ...(payload ? { payload } : {}) });
  const cli = (args: string[], stdin?: string): Promise<CliResult> =>
    runCliOn(gh.config, [...args, '-p', gh.project.id], stdin === undefined ? {} : { stdin });
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
});

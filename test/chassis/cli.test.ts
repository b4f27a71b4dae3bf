import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { depsOn, runCliOn } from '../harness/cli.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';

const cli = (db: FreshDatabase, ...args: string[]) => runCliOn(db, args);

const depsFor = depsOn;

describe.each(engines())('gatehouse CLI on %s', (engine) => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it('init --json creates a project and prints its dev keys as one JSON document', async () => {
    const { code, out } = await cli(db, 'init', '--json', '--name', 'shop');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ project: 'shop', environment: 'dev', publishable_key: expect.stringMatching(/^pk_dev_/), secret_key: expect.stringMatching(/^sk_dev_/) });
    const deps = await depsFor(db);
    try {
      const verified = await deps.apiKeys.verify(result.secret_key);
      expect(verified).toMatchObject({ kind: 'secret', environment: 'dev', projectId: result.project_id });
    } finally {
      await deps.close();
    }
    // The name is unique.
    const again = await cli(db, 'init', '--json', '--name', 'shop');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists/);
  });

  it('init defaults the project name to "default"', async () => {
    expect(JSON.parse((await cli(db, 'init', '--json')).out).project).toBe('default');
  });

  it('projects create|list and keys create|list|revoke|rotate', async () => {
    await cli(db, 'projects', 'create', 'alpha', '--json');
    const listed = JSON.parse((await cli(db, 'projects', 'list', '--json')).out);
    expect(listed.projects.map((p: { name: string }) => p.name)).toEqual(['alpha']);

    const created = JSON.parse((await cli(db, 'keys', 'create', '-p', 'alpha', '-e', 'prod', '-k', 'secret', '-s', 'admin:keys', '-s', 'llm:*', '--json')).out);
    expect(created).toMatchObject({ key: expect.stringMatching(/^sk_prod_/), environment: 'prod', scopes: ['admin:keys', 'llm:*'] });

    const keys = JSON.parse((await cli(db, 'keys', 'list', '-p', 'alpha', '-e', 'prod', '--json')).out).keys;
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys)).not.toContain(created.key);

    const human = (await cli(db, 'keys', 'list', '-p', 'alpha', '-e', 'prod')).out;
    expect(human).toContain(created.id);
    expect(human).toContain(`sk_prod_…${created.key.slice(-4)}`);
    expect(human).not.toContain(created.key);

    const rotated = JSON.parse((await cli(db, 'keys', 'rotate', created.id, '-p', 'alpha', '-e', 'prod', '--grace', '60', '--json')).out);
    expect(rotated.previous).toMatchObject({ id: created.id, status: 'expiring' });
    const revoked = JSON.parse((await cli(db, 'keys', 'revoke', rotated.id, '-p', 'alpha', '-e', 'prod', '--json')).out);
    expect(revoked.status).toBe('revoked');

    // A key id of another environment is not found.
    const wrongEnv = await cli(db, 'keys', 'revoke', created.id, '-p', 'alpha', '-e', 'dev');
    expect(wrongEnv.code).toBe(1);
    expect(wrongEnv.err).toMatch(/No such key/);
  });

  it('usage errors exit 2; bad configuration exits 2 naming the setting', async () => {
    expect((await cli(db, 'keys', 'create', '-p', 'x')).code).toBe(2);
    const saved = process.env.GATEHOUSE_PORT;
    process.env.GATEHOUSE_PORT = 'abc';
    try {
      const res = await cli(db, 'projects', 'list');
      expect(res.code).toBe(2);
      expect(res.err).toMatch(/GATEHOUSE_PORT/);
    } finally {
      if (saved === undefined) delete process.env.GATEHOUSE_PORT;
      else process.env.GATEHOUSE_PORT = saved;
    }
  });

  it('master-key rotate re-wraps data keys; encrypted data stays readable, only with the new key', async () => {
    let deps = await depsFor(db);
    const scope = 'abcdefghijklmnop/dev';
    const ciphertext = await deps.keyring.encrypt(scope, 'provider secret', 'provider_key:openai');
    const oldId = deps.keyring.masterKeyId;
    await deps.close();
    const keyFile = join(db.dataDir, 'master.key');
    const oldKey = readFileSync(keyFile, 'utf8');

    const { code, out } = await cli(db, 'master-key', 'rotate', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ rewrapped: 1, previous_key_id: oldId, key_file: keyFile });
    expect(result).not.toHaveProperty('master_key');
    expect(readFileSync(keyFile, 'utf8')).not.toBe(oldKey);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    expect(existsSync(`${keyFile}.new`)).toBe(false);

    deps = await depsFor(db);
    try {
      expect(deps.keyring.masterKeyId).toBe(result.key_id);
      expect(await deps.keyring.decryptString(scope, ciphertext, 'provider_key:openai')).toBe('provider secret');
      const row = await deps.storage.db.selectFrom('data_keys').selectAll().executeTakeFirstOrThrow();
      expect(row.master_key_id).toBe(result.key_id);
    } finally {
      await deps.close();
    }
  });
});

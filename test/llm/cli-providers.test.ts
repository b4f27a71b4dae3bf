// `gatehouse providers …` writes the same settings as the admin API, straight in the database.
import { describe, expect, it } from 'vitest';
import { runCliOn, useSeededDatabase, type CliTarget } from '../harness/cli.js';
import { engines } from '../harness/engines.js';

const KEY = 'sk-cli-provider-key-9876543210';

const cli = (db: CliTarget, stdin: string | null, ...args: string[]) => runCliOn(db, args, stdin === null ? {} : { stdin });

describe.each(engines())('gatehouse providers (%s)', (engine) => {
  const db = useSeededDatabase(engine, 'shop');

  it('set reads the key from stdin, list never prints it, quotas and remove work', async () => {
    const set = await cli(db, `${KEY}\n`, 'providers', 'set', 'openai', '-p', 'shop', '--key-stdin', '--deny', 'POST /v1/images/generations');
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('…3210');
    const list = await cli(db, null, '--json', 'providers', 'list', '-p', 'shop');
    expect(JSON.parse(list.out).providers[0]).toMatchObject({ name: 'openai', has_key: true, endpoints_remove: ['POST /v1/images/generations'] });
    expect(list.out + set.out + set.err).not.toContain(KEY);
    const quotas = await cli(db, null, '--json', 'providers', 'quotas', '-p', 'shop', '--day', '1000', '--month', 'none');
    expect(JSON.parse(quotas.out)).toEqual({ tokens_per_day: 1000, tokens_per_month: null });
    const bad = await cli(db, null, 'providers', 'set', 'groq', '-p', 'shop');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('base_url');
    expect((await cli(db, null, 'providers', 'remove', 'openai', '-p', 'shop')).out).toContain('Removed openai');
    expect(JSON.parse((await cli(db, null, '--json', 'providers', 'list', '-p', 'shop')).out).providers).toEqual([]);
  });
});

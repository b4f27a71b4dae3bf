// `gatehouse providers …` writes the same settings as the admin API, straight in the database.
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/index.js';
import { createDeps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/index.js';
import { createProjectWithDevKeys } from '../../src/tenancy/index.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';

const KEY = 'sk-cli-provider-key-9876543210';

async function cli(db: FreshDatabase, stdin: string | null, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  process.env.GATEHOUSE_DATA_DIR = db.dataDir;
  process.env.GATEHOUSE_LOG_LEVEL = 'silent';
  if (db.databaseUrl) process.env.DATABASE_URL = db.databaseUrl;
  else delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const input = stdin === null ? null : vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([Buffer.from(stdin)]) as never);
  try {
    return { code: await runCli(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    input?.mockRestore();
    process.env = saved;
  }
}

describe.each(engines())('gatehouse providers (%s)', (engine) => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
    const deps = await createDeps(loadConfig({ env: { GATEHOUSE_DATA_DIR: db.dataDir, ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}) } }), { logger: createLogger({ level: 'silent' }) });
    try {
      await createProjectWithDevKeys(deps, 'shop', 'test');
    } finally {
      await deps.close();
    }
  });
  afterEach(() => db.cleanup());

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

// The config file's `rateLimits` section: partial sections inherit DEFAULT_LIMITS, typos stop the start.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/index.js';
import { DEFAULT_LIMITS } from './policy.js';

const dirs: string[] = [];
async function load(file: unknown, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'gh-cfg-'));
  dirs.push(dir);
  await writeFile(join(dir, 'c.json'), JSON.stringify(file));
  return loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'c.json'), GATEHOUSE_DATA_DIR: dir, ...env } });
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('rateLimits in the config file', () => {
  it('absent: DEFAULT_LIMITS', async () => {
    expect((await load({})).rateLimits).toEqual({ classes: DEFAULT_LIMITS.classes, overrides: {} });
  });

  it('one class set: the others keep their defaults', async () => {
    const llm = { failMode: 'open', tiers: { guest: [{ limit: 1, windowMs: 60_000 }], user: [{ limit: 2, windowMs: 60_000 }], admin: [{ limit: 3, windowMs: 60_000 }] } };
    const config = await load({ rateLimits: { classes: { llm }, address: { failMode: 'closed', windows: [{ limit: 50, windowMs: 60_000 }] } } });
    expect(config.rateLimits.classes.llm).toEqual(llm);
    expect(config.rateLimits.classes.auth).toEqual(DEFAULT_LIMITS.classes.auth);
    expect(config.rateLimits.address).toEqual({ failMode: 'closed', windows: [{ limit: 50, windowMs: 60_000 }] });
  });

  it('a typo or a bad value stops the start', async () => {
    await expect(load({ rateLimits: { clases: {} } })).rejects.toBeInstanceOf(ConfigError);
    await expect(load({ rateLimits: { classes: { llm: { failMode: 'maybe' } } } })).rejects.toBeInstanceOf(ConfigError);
    await expect(load({ rateLimits: { overrides: { 'user:a': { llm: [{ limit: 1, windowMs: 10 }] } } } })).rejects.toBeInstanceOf(ConfigError);
  });

  it('GATEHOUSE_METRICS_TOKEN is checked and never echoed in the error', async () => {
    const error = await load({}, { GATEHOUSE_METRICS_TOKEN: 'short-secret' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).not.toContain('short-secret');
  });
});

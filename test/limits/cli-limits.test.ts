// `gatehouse limits …` changes the same settings the admin API does, straight in the database.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWindow } from '../../src/cli/commands/limits.js';
import { createProjectWithDevKeys } from '../../src/operations/create-project.js';
import { depsOn, runCliOn } from '../harness/cli.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';

const cli = (db: FreshDatabase, ...args: string[]) => runCliOn(db, args);

const depsFor = depsOn;

describe('window syntax', () => {
  it('reads limit/period with s, m, h, d', () => {
    expect(parseWindow('10/60s')).toEqual({ limit: 10, windowMs: 60_000 });
    expect(parseWindow('50/1h')).toEqual({ limit: 50, windowMs: 3_600_000 });
    expect(parseWindow('100/m')).toEqual({ limit: 100, windowMs: 60_000 });
    for (const bad of ['10', '10/', 'x/1m', '10/1w', '-1/1m']) expect(() => parseWindow(bad)).toThrow();
  });
});

describe.each(engines())('gatehouse limits (%s)', (engine) => {
  let db: FreshDatabase;
  let projectId: string;
  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
    const deps = await depsFor(db);
    try {
      projectId = (await createProjectWithDevKeys(deps, 'shop', 'test')).project.id;
    } finally {
      await deps.close();
    }
  });
  afterEach(() => db.cleanup());

  it('set, override set, show --json and reset change the environment\'s settings', async () => {
    expect((await cli(db, 'limits', 'set', '-p', 'shop', '--class', 'llm', '--tier', 'user', '-w', '5/1m', '-w', '20/1h', '--fail-mode', 'closed')).code).toBe(0);
    expect((await cli(db, 'limits', 'override', 'set', 'user:usr_1', '-p', 'shop', '--class', 'llm', '-w', '100/1m')).code).toBe(0);
    const shown = await cli(db, '--json', 'limits', 'show', '-p', 'shop');
    expect(shown.code).toBe(0);
    const { effective } = JSON.parse(shown.out);
    expect(effective.classes.llm.tiers.user).toEqual([{ limit: 5, windowMs: 60_000 }, { limit: 20, windowMs: 3_600_000 }]);
    expect(effective.classes.llm.tiers.guest).toEqual([{ limit: 10, windowMs: 60_000 }, { limit: 50, windowMs: 3_600_000 }]);
    expect(effective.overrides['user:usr_1']).toEqual({ llm: [{ limit: 100, windowMs: 60_000 }] });

    // What a running server reads (through its own settings cache).
    const deps = await depsFor(db);
    try {
      expect((await deps.rateLimits.settings.effective(projectId, 'dev')).classes.llm.tiers.user[0]).toEqual({ limit: 5, windowMs: 60_000 });
      expect((await deps.rateLimits.settings.effective(projectId, 'prod')).classes.llm.tiers.user[0]).toEqual({ limit: 10, windowMs: 60_000 });
    } finally {
      await deps.close();
    }

    expect((await cli(db, 'limits', 'reset', '-p', 'shop')).code).toBe(0);
    expect((await cli(db, 'limits', 'override', 'remove', 'user:usr_1', '-p', 'shop')).code).toBe(0);
    const after = JSON.parse((await cli(db, '--json', 'limits', 'show', '-p', 'shop')).out);
    expect(after.effective.classes.llm.tiers.user[0]).toEqual({ limit: 10, windowMs: 60_000 });
    expect(after.effective.overrides).toEqual({});
  });

  it('refuses bad input with exit 1 and changes nothing', async () => {
    const bad = [
      ['limits', 'set', '-p', 'shop', '--class', 'nope', '-w', '5/1m'],
      ['limits', 'set', '-p', 'shop', '--class', 'llm', '-w', '5/1m', '-w', '6/60s'],
      ['limits', 'override', 'set', 'robot:1', '-p', 'shop', '--class', 'llm', '-w', '5/1m'],
      ['limits', 'override', 'remove', 'user:ghost', '-p', 'shop'],
    ];
    for (const args of bad) {
      const res = await cli(db, ...args);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.err).toMatch(/^error: /);
    }
    const shown = JSON.parse((await cli(db, '--json', 'limits', 'show', '-p', 'shop')).out);
    expect(shown.policy).toBeNull();
    expect(shown.effective.overrides).toEqual({});
  });
});

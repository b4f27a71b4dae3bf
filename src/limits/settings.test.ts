// Per-environment settings: merge over the config file, validation, and the short cache that
// makes changes apply everywhere without a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, type FreshDatabase } from '../../test/harness/engines.js';
import { migratedStorage } from '../../test/harness/storage.js';
import type { Storage } from '../db/index.js';
import { GatehouseError } from '../errors/index.js';
import { createProjectService } from '../tenancy/index.js';
import { DEFAULT_LIMITS } from './policy.js';
import { createLimitSettingsStore, type LimitSettingsStore } from './settings-store.js';
import { applyLimitSettings, createLimitSettings } from './settings.js';
import { clockAt, systemClock } from '../shared/clock.js';

const w = (limit: number, windowMs = 60_000) => ({ limit, windowMs });

describe('applyLimitSettings', () => {
  it('changes only what the patch names: one tier keeps the other tiers and the fail mode', () => {
    const merged = applyLimitSettings(DEFAULT_LIMITS, { llm: { tiers: { user: [w(3)] } }, data_read: { failMode: 'closed' } }, { 'user:u1': { llm: [w(9)] } });
    expect(merged.classes.llm).toEqual({ ...DEFAULT_LIMITS.classes.llm, tiers: { ...DEFAULT_LIMITS.classes.llm.tiers, user: [w(3)] } });
    expect(merged.classes.data_read).toEqual({ ...DEFAULT_LIMITS.classes.data_read, failMode: 'closed' });
    expect(merged.classes.auth).toBe(DEFAULT_LIMITS.classes.auth);
    expect(merged.overrides).toEqual({ 'user:u1': { llm: [w(9)] } });
  });
});

describe.each(engines())('limit settings on %s', (engine) => {
  let db: FreshDatabase;
  let storage: Storage;
  let store: LimitSettingsStore;
  let projectId: string;
  // Per test: a service from an earlier test may still run its keep-warm read (its timer is on real
  // time) and must not count here.
  let loads: { n: number };
  const invalid: string[][] = [];
  // The settings cache ages on this clock: the TTL test advances it instead of sleeping.
  let nowMs = Date.UTC(2030, 0, 1);
  const clock = clockAt(() => nowMs);

  beforeEach(async () => {
    ({ db, storage } = await migratedStorage(engine));
    projectId = (await createProjectService({ db: storage.db, clock: systemClock, devOrigins: [] }).create('limits')).id;
    const raw = createLimitSettingsStore(storage.db);
    const mine = { n: 0 };
    loads = mine;
    store = { ...raw, getPolicy: (...a) => ((mine.n += 1), raw.getPolicy(...a)) };
    invalid.length = 0;
  });
  afterEach(async () => {
    await storage.close();
    await db.cleanup();
  });

  const service = (cacheTtlMs = 1000) =>
    createLimitSettings({ store, base: DEFAULT_LIMITS, cacheTtlMs, clock, onInvalidStored: (_p, _e, problems) => invalid.push(problems) });

  it('a stored patch and override apply to their environment only', async () => {
    const s = service();
    await s.setPolicy(projectId, 'dev', { default: { tiers: { guest: [w(5)] } } }, 'cli');
    await s.setOverride(projectId, 'dev', 'key:k1', { llm: [w(2)] }, 'cli');
    const dev = await s.effective(projectId, 'dev');
    expect(dev.classes.default.tiers.guest).toEqual([w(5)]);
    expect(dev.overrides['key:k1']).toEqual({ llm: [w(2)] });
    expect(await s.effective(projectId, 'prod')).toEqual(DEFAULT_LIMITS);
    expect(await s.getPolicy(projectId, 'dev')).toMatchObject({ patch: { default: { tiers: { guest: [w(5)] } } }, updatedBy: 'cli' });
  });

  it('refuses an invalid result with validation_failed and stores nothing', async () => {
    const s = service();
    const attempts = [
      () => s.setPolicy(projectId, 'dev', { default: { tiers: { guest: [w(5), w(6)] } } }, 'cli'),
      () => s.setPolicy(projectId, 'dev', { default: { failMode: 'sometimes' } } as never, 'cli'),
      () => s.setOverride(projectId, 'dev', 'user:a b', { llm: [w(1)] }, 'cli'),
      () => s.setOverride(projectId, 'dev', 'user:u1', { llm: [w(1, 500)] }, 'cli'),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GatehouseError);
      expect((error as GatehouseError).code).toBe('validation_failed');
    }
    expect(await store.getPolicy(projectId, 'dev')).toBeNull();
    expect(await store.listOverrides(projectId, 'dev')).toEqual([]);
  });

  it('caches for the TTL, reloads after it, and a local change invalidates at once', async () => {
    const s = service(300);
    const other = service(300); // another instance
    expect((await other.effective(projectId, 'dev')).classes.default.tiers.admin).toEqual([w(1000)]);
    await s.setPolicy(projectId, 'dev', { default: { tiers: { admin: [w(7)] } } }, 'cli');
    // Here: at once. There: stale until the TTL has passed.
    expect((await s.effective(projectId, 'dev')).classes.default.tiers.admin).toEqual([w(7)]);
    expect((await other.effective(projectId, 'dev')).classes.default.tiers.admin).toEqual([w(1000)]);
    nowMs += 299;
    expect((await other.effective(projectId, 'dev')).classes.default.tiers.admin).toEqual([w(1000)]);
    nowMs += 1;
    expect((await other.effective(projectId, 'dev')).classes.default.tiers.admin).toEqual([w(7)]);
  });

  it('concurrent reads at expiry make one load', async () => {
    // A long TTL: its keep-warm read (due 250 ms before expiry, on real time) cannot land in this test
    // on a loaded machine.
    const s = service(60_000);
    const before = loads.n;
    const configs = await Promise.all(Array.from({ length: 50 }, () => s.effective(projectId, 'dev')));
    expect(loads.n - before).toBe(1);
    expect(new Set(configs).size).toBe(1);
  });

  it('a stored row that no longer validates is reported and the config file policy applies', async () => {
    await store.putPolicy(projectId, 'dev', { policy: JSON.stringify({ default: { tiers: { admin: [w(0)] } } }), updatedAt: 'x', updatedBy: 'x' });
    expect(await service().effective(projectId, 'dev')).toEqual(DEFAULT_LIMITS);
    expect(invalid).toHaveLength(1);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, type FreshDatabase } from '../../../test/harness/engines.js';
import { migratedStorage } from '../../../test/harness/storage.js';
import type { Storage } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { createProjectService } from '../../tenancy/index.js';
import { createQuotaService, createSqlQuotaStore } from './index.js';
import { clockAt } from '../../shared/clock.js';

describe.each(engines())('token quotas on the SQL store (%s)', (engine) => {
  let db: FreshDatabase;
  let storage: Storage;
  let now = new Date('2026-11-23T23:59:00Z');
  const clock = clockAt(() => now.getTime());
  let subject: { projectId: string; environment: string; userId: string };

  beforeEach(async () => {
    ({ db, storage } = await migratedStorage(engine));
    const project = await createProjectService({ db: storage.db, clock, devOrigins: [] }).create('p1');
    subject = { projectId: project.id, environment: 'dev', userId: 'u1' };
    now = new Date('2026-11-23T23:59:00Z');
  });
  afterEach(async () => {
    await storage.close();
    await db.cleanup();
  });

  it('counts per period atomically under concurrency', async () => {
    const store = createSqlQuotaStore(storage.db);
    await Promise.all(Array.from({ length: 20 }, () => store.add(subject, ['day:2026-11-23', 'month:2026-11'], 5)));
    expect(await store.used(subject, ['day:2026-11-23', 'month:2026-11', 'day:2026-11-24'])).toEqual([100, 100, 0]);
    expect(await store.used({ ...subject, userId: 'u2' }, ['day:2026-11-23'])).toEqual([0]);
  });

  it('refuses once a limit is reached, with retry-after to the end of the UTC day, and resets the next day', async () => {
    const quotas = createQuotaService({ db: storage.db, store: createSqlQuotaStore(storage.db), clock, cacheMs: 0 });
    await quotas.check(subject); // no limits: passes
    await quotas.setLimits(subject.projectId, 'dev', { tokensPerDay: 100, tokensPerMonth: 1000 });
    await quotas.consume(subject, 99);
    await quotas.check(subject);
    await quotas.consume(subject, 30);
    const refusal = await quotas.check(subject).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(GatehouseError);
    expect(refusal).toMatchObject({ code: 'token_quota_exceeded', status: 429, retryAfterS: 60, details: { period: 'day', limit: 100 } });
    now = new Date('2026-11-24T00:00:01Z');
    await quotas.check(subject);
  });

  it('a monthly limit holds across days', async () => {
    const quotas = createQuotaService({ db: storage.db, store: createSqlQuotaStore(storage.db), clock, cacheMs: 0 });
    await quotas.setLimits(subject.projectId, 'dev', { tokensPerDay: null, tokensPerMonth: 50 });
    await quotas.consume(subject, 50);
    now = new Date('2026-11-25T10:00:00Z');
    await expect(quotas.check(subject)).rejects.toMatchObject({ code: 'token_quota_exceeded', details: { period: 'month' } });
    expect(await quotas.limitsOf(subject.projectId, 'dev')).toEqual({ tokensPerDay: null, tokensPerMonth: 50 });
  });
});

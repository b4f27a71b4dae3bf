// The request counters keep their buffer keys per project (the current minute) and per user (the
// current active-users slot) instead of building them per response (issue 18). What is kept must
// never misfile a response: environments of one project, a minute rolling over, a batch flushed
// between two responses of the same minute, a user seen in two environments. On every engine.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequestStats, type RequestStats } from '../../src/observability/index.js';
import { clockAt } from '../../src/shared/clock.js';
import { createWriteBehind, type WriteBehind } from '../../src/shared/write-behind.js';
import { engines, type FreshDatabase } from '../harness/engines.js';
import { migratedStorage } from '../harness/storage.js';
import type { Storage } from '../../src/db/index.js';
import { systemClock } from '../../src/shared/clock.js';
import { createProjectService } from '../../src/tenancy/index.js';

const START = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;

describe.each(engines())('request stats keys on %s', (engine) => {
  let db: FreshDatabase;
  let storage: Storage;
  let writer: WriteBehind;
  let stats: RequestStats;
  let at = START;
  let project = '';

  beforeEach(async () => {
    ({ db, storage } = await migratedStorage(engine));
    at = START + 5_000;
    // A real project: the rollups belong to one (a batch for an unknown project is refused and dropped).
    project = (await createProjectService({ db: storage.db, clock: systemClock, devOrigins: [] }).create('stats')).id;
    // Never started: the test decides when batches are written.
    writer = createWriteBehind({ intervalMs: 60_000, logger: { error() {}, warn() {} } });
    stats = createRequestStats({ db: storage.db, writer, clock: clockAt(() => at) });
  });
  afterEach(async () => {
    await writer.close();
    await storage.close();
    await db.cleanup();
  });

  const range = { from: START / 1000, to: START / 1000 + 600, step: 60 };
  const perMinute = async (environment: string, metric: 'requests' | 'errors' | 'rate_limited' = 'requests') =>
    Object.fromEntries([...(await stats.requestSeries(project, environment, metric, range))].map(([k, v]) => [(k - START / 1000) / 60, v]));

  it('alternating environments of one project, across a minute boundary, land in their own buckets', async () => {
    for (let i = 0; i < 6; i++) stats.record(project, i % 3 === 0 ? 'prod' : 'dev', i === 5 ? 429 : 200, null);
    at = START + MIN + 1;
    stats.record(project, 'dev', 500, null);
    stats.record(project, 'prod', 200, null);
    stats.record(project, 'prod', 404, null);
    expect(await perMinute('dev')).toEqual({ 0: 4, 1: 1 });
    expect(await perMinute('prod')).toEqual({ 0: 2, 1: 2 });
    expect(await perMinute('dev', 'errors')).toEqual({ 0: 1, 1: 1 });
    expect(await perMinute('dev', 'rate_limited')).toEqual({ 0: 1, 1: 0 });
    expect(await perMinute('prod', 'errors')).toEqual({ 0: 0, 1: 1 });
  });

  it('a batch written between two responses of one minute loses neither', async () => {
    stats.record(project, 'dev', 200, 'usr_1');
    stats.record(project, 'dev', 200, 'usr_1');
    await writer.flush();
    stats.record(project, 'dev', 200, 'usr_1');
    await writer.flush();
    stats.record(project, 'dev', 200, 'usr_1');
    expect(await perMinute('dev')).toEqual({ 0: 4 });
    const active = await stats.activeUserSeries(project, 'dev', { from: START / 1000, to: START / 1000 + 300, step: 300 });
    expect([...active.values()]).toEqual([1]);
  });

  it('a user seen in two environments is an active user of each', async () => {
    stats.record(project, 'dev', 200, 'usr_2');
    stats.record(project, 'prod', 200, 'usr_2');
    stats.record(project, 'dev', 200, 'usr_2');
    const slot = { from: START / 1000, to: START / 1000 + 300, step: 300 };
    expect([...(await stats.activeUserSeries(project, 'dev', slot)).values()]).toEqual([1]);
    expect([...(await stats.activeUserSeries(project, 'prod', slot)).values()]).toEqual([1]);
  });
});

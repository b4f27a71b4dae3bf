// GET /admin/v1/stats/series: responses, errors, 429s, LLM tokens and active users per bucket of
// the acting environment, counted by the onResponse stage and stored by the background writer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt } from '../../src/shared/clock.js';
import { createRequestStats, ACTIVE_SLOT } from '../../src/observability/index.js';
import { createWriteBehind } from '../../src/shared/write-behind.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema } from '../data/fixtures.js';

/** Users may read 3 times a minute; everything else is out of the way. */
function tightReadsEnv(): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'gh-stats-')), 'config.json');
  const big = [{ limit: 1_000_000, windowMs: 60_000 }];
  const classes = Object.fromEntries(['auth', 'llm', 'data_write', 'admin', 'default'].map((c) => [c, { failMode: 'closed', tiers: { guest: big, user: big, admin: big } }]));
  classes.data_read = { failMode: 'closed', tiers: { guest: big, user: [{ limit: 3, windowMs: 60_000 }], admin: big } };
  writeFileSync(file, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows: big } } }));
  return { GATEHOUSE_CONFIG: file };
}

// A minute boundary well inside an hour and a five-minute slot, so buckets are predictable.
const START = Date.parse('2026-11-20T10:00:00Z');

describe.each(engines())('admin stats series (%s)', (engine) => {
  let gh: TestApp;
  let now = START + 5_000;
  let alice: TestUser;
  let bob: TestUser;
  const iso = (ms: number) => new Date(ms).toISOString();

  async function series(query: string, apikey = gh.secretKey) {
    return gh.app.inject({ url: `/admin/v1/stats/series?${query}`, headers: { apikey } });
  }
  async function points(query: string): Promise<Array<[number, number]>> {
    const res = await series(query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().points;
  }
  const read = (who?: TestUser, table = 'todos') => gh.app.inject({
    url: `/rest/v1/${table}`, headers: { apikey: gh.publishableKey, ...(who ? { authorization: `Bearer ${who.accessToken}` } : {}) },
  });

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: tightReadsEnv(), clock: clockAt(() => now) });
    await applySchema(gh, gh.secretKey);
    [alice, bob] = await Promise.all([createTestUser(gh), createTestUser(gh)]);
    now = START + 60_000 + 5_000; // minute 10:01: a fresh rate window and bucket, after the sign-ups of 10:00
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await read(alice)).statusCode);
    statuses.push((await read(bob)).statusCode, (await read(undefined)).statusCode, (await read(bob, 'no_such_table')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 200, 200, 404]);
    // Admin calls are not the app's traffic: never counted.
    for (let i = 0; i < 3; i++) expect((await gh.app.inject({ url: '/admin/v1/tables', headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
    now = START + 3 * 60_000 + 5_000; // 10:03
    expect((await read(alice)).statusCode).toBe(200);
    gh.deps.llm.usage.add({ projectId: gh.project.id, environment: 'dev', userId: alice.id, provider: 'openai' }, { input: 10, output: 5, total: 15, model: 'gpt-x' }, new Date(START + 10 * 60_000));
    gh.deps.llm.usage.add({ projectId: gh.project.id, environment: 'dev', userId: bob.id, provider: 'openai' }, { input: 20, output: 7, total: 27, model: 'gpt-y' }, new Date(START + 70 * 60_000));
  });
  afterAll(async () => gh?.close());

  const range = `from=${iso(START)}&to=${iso(START + 5 * 60_000)}`;
  const t = (minutes: number) => (START + minutes * 60_000) / 1000;

  it('holds one active-user entry per user per 5-minute slot, not one per minute', async () => {
    // Its own writer, never started: what waits in the buffer is what record() de-duplicated.
    let at = START;
    const writer = createWriteBehind({ intervalMs: 60_000, logger: { error() {}, warn() {} } });
    const stats = createRequestStats({ db: gh.deps.storage.db, writer, clock: clockAt(() => at) });
    for (let minute = 0; minute < ACTIVE_SLOT / 60; minute++) {
      at = START + minute * 60_000;
      stats.record('prj_slot', 'dev', 200, 'usr_one');
      stats.record('prj_slot', 'dev', 200, 'usr_one');
    }
    const depth = (name: string) => writer.stats().find((b) => b.buffer === name)!.depth;
    expect([depth('active_users'), depth('request_stats')]).toEqual([1, ACTIVE_SLOT / 60]);
    at = START + ACTIVE_SLOT * 1000; // the next slot: a new entry
    stats.record('prj_slot', 'dev', 200, 'usr_one');
    expect(depth('active_users')).toBe(2);
    await writer.close();
  });

  it('requests, errors and 429s per minute: every bucket, zeros included, admin calls not counted', async () => {
    expect(await points(`metric=requests&${range}&step=60`)).toEqual([[t(0), 2], [t(1), 8], [t(2), 0], [t(3), 1], [t(4), 0]]);
    expect(await points(`metric=errors&${range}&step=60`)).toEqual([[t(0), 0], [t(1), 3], [t(2), 0], [t(3), 0], [t(4), 0]]);
    expect(await points(`metric=rate_limited&${range}&step=60`)).toEqual([[t(0), 0], [t(1), 2], [t(2), 0], [t(3), 0], [t(4), 0]]);
    const res = await series(`metric=requests&${range}&step=300`);
    expect(res.json()).toEqual({ metric: 'requests', step: 300, points: [[t(0), 11]] });
  });

  it('active users: distinct signed-in users per bucket', async () => {
    expect(await points(`metric=active_users&${range}&step=300`)).toEqual([[t(0), 2]]);
    expect(await points(`metric=active_users&from=${iso(START - 3_600_000)}&to=${iso(START + 3_600_000)}&step=3600`)).toEqual([[t(-60), 0], [t(0), 2]]);
  });

  it('LLM tokens from the usage table, per hour', async () => {
    expect(await points(`metric=llm_tokens&from=${iso(START)}&to=${iso(START + 2 * 3_600_000)}&step=3600`)).toEqual([[t(0), 15], [t(60), 27]]);
  });

  it('another project sees none of it', async () => {
    const b = await gh.createProject('stats-elsewhere');
    const res = await series(`metric=requests&${range}&step=300`, b.secretKey);
    expect(res.json().points).toEqual([[t(0), 0]]);
  });

  it('bad input: a clear 400, never a 500', async () => {
    const bad = [
      `metric=bogus&${range}`,
      `${range}&step=60`,
      `metric=requests&${range}&step=30`,
      `metric=requests&${range}&step=90`,
      `metric=requests&${range}&step=172800`,
      `metric=active_users&${range}&step=60`,
      `metric=requests&from=${iso(START + 60_000)}&to=${iso(START)}&step=60`,
      `metric=requests&from=yesterday&to=${iso(START)}&step=60`,
      `metric=requests&from=${iso(START)}&to=${iso(START + 1001 * 60_000)}&step=60`,
      `metric=requests&${range}&step=60&extra=1`,
    ];
    for (const query of bad) {
      const res = await series(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error, query).toBeTruthy();
    }
    const tooMany = await series(`metric=requests&from=${iso(START)}&to=${iso(START + 1001 * 60_000)}&step=60`);
    expect(tooMany.json().message).toMatch(/at most 1000/);
  });

  it('refused without the admin:stats scope, and to a publishable key', async () => {
    const made = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', name: 'no stats', scopes: ['admin:tables'] } });
    expect((await series(`metric=requests&${range}&step=60`, made.json().key as string)).statusCode).toBe(403);
    expect((await series(`metric=requests&${range}&step=60`, gh.publishableKey)).statusCode).toBe(403);
  });
});

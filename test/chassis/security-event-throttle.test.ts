// A flood of refused requests must not become a flood of rows and log lines (issue 19): events a
// client can repeat at will are throttled per subject and kind, by the same mechanism as the
// rate-limit events, and every security event is pruned after its retention.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv } from '../harness/users.js';
import { startSecurityEventPruning } from '../../src/observability/index.js';
import { clockAt } from '../../src/shared/clock.js';

const DAY = 24 * 3600_000;

describe.each(engines())('security event throttle and retention (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.parse('2032-05-01T10:00:00Z');
  beforeAll(async () => {
    gh = await startTestApp(engine, {
      clock: clockAt(() => nowMs),
      env: {
        ...generousAuthLimitsEnv(),
        // Backoff out of the way: every guess is a plain refused sign-in.
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '100000', GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT_ALL_ADDRESSES: '100000',
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_IP: '100000', GATEHOUSE_SECURITY_EVENT_RETENTION_DAYS: '30',
      },
    });
  });
  afterAll(async () => { await gh?.close(); });

  const signIn = (email: string, remoteAddress: string) => gh.app.inject({
    method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, remoteAddress, payload: { email, password: 'wrong password' },
  });
  const failedEvents = async (ip: string) => {
    await gh.deps.events.flush();
    return (await gh.deps.events.list(gh.project.id, 'dev', { type: 'sign_in_failed', limit: 1000 })).filter((e) => e.ip === ip);
  };
  const warnLines = (ip: string) => gh.logs.filter((l) => l.includes('"security_event":"sign_in_failed"') && l.includes(`"ip":"${ip}"`));

  it('60 refused sign-ins from one address leave 5 rows and 5 log lines a minute; the next minute counts the rest', async () => {
    const ip = '203.0.113.150';
    for (let i = 0; i < 60; i++) expect((await signIn(`target-${i}@example.test`, ip)).statusCode).toBe(400);
    expect(await failedEvents(ip)).toHaveLength(5);
    expect(warnLines(ip)).toHaveLength(5);
    nowMs += 60_000;
    expect((await signIn('target-next@example.test', ip)).statusCode).toBe(400);
    const events = await failedEvents(ip);
    expect(events).toHaveLength(6);
    expect(events[0]!.details).toMatchObject({ reason: 'invalid_credentials', suppressed: 55 });
  });

  it('another address has its own budget of events, and the refusals themselves are unchanged', async () => {
    const other = '203.0.113.151';
    for (let i = 0; i < 3; i++) expect((await signIn(`x-${i}@example.test`, other)).json().error_code).toBe('invalid_credentials');
    expect(await failedEvents(other)).toHaveLength(3);
  });

  it('150 forged user tokens from one address: each is 401, but the events stop at 60 a minute', async () => {
    nowMs += 60_000;
    const ip = '203.0.113.152';
    const forged = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.AAAA';
    for (let i = 0; i < 150; i++) {
      const res = await gh.app.inject({ url: '/rest/v1/notes', headers: { apikey: gh.publishableKey, authorization: `Bearer ${forged}` }, remoteAddress: ip });
      expect(res.statusCode).toBe(401);
    }
    await gh.deps.events.flush();
    const rejected = (await gh.deps.events.list(gh.project.id, 'dev', { type: 'token_rejected', limit: 1000 })).filter((e) => e.ip === ip);
    expect(rejected).toHaveLength(60);
    expect(gh.logs.filter((l) => l.includes('"security_event":"token_rejected"') && l.includes(`"ip":"${ip}"`))).toHaveLength(60);
  });

  it('rotating addresses inside one IPv6 /64 does not mint fresh event budgets', async () => {
    nowMs += 60_000;
    for (let i = 0; i < 20; i++) await signIn(`v6-${i}@example.test`, `2001:db8:77:1::${(i + 1).toString(16)}`);
    await gh.deps.events.flush();
    const rows = (await gh.deps.events.list(gh.project.id, 'dev', { type: 'sign_in_failed', limit: 1000 })).filter((e) => e.ip?.startsWith('2001:db8:77:1:'));
    expect(rows).toHaveLength(5);
  });

  it('events older than the retention are pruned, newer ones kept, on the injected clock', async () => {
    const db = gh.deps.storage.db;
    const at = (ms: number) => new Date(ms).toISOString();
    await db.insertInto('security_events').values([
      { project_id: gh.project.id, environment: 'dev', type: 'token_rejected', ip: null, request_id: 'old-1', details: '{}', created_at: at(nowMs - 31 * DAY) },
      { project_id: gh.project.id, environment: 'dev', type: 'token_rejected', ip: null, request_id: 'old-2', details: '{}', created_at: at(nowMs - 400 * DAY) },
      { project_id: null, environment: null, type: 'api_key_rejected', ip: null, request_id: 'old-3', details: '{}', created_at: at(nowMs - 30 * DAY - 1) },
      { project_id: gh.project.id, environment: 'dev', type: 'token_rejected', ip: null, request_id: 'recent', details: '{}', created_at: at(nowMs - 29 * DAY) },
    ]).execute();
    const ids = async () => (await db.selectFrom('security_events').select('request_id').where('request_id', 'in', ['old-1', 'old-2', 'old-3', 'recent']).execute()).map((r) => r.request_id).sort();
    expect(await gh.deps.events.prune()).toBe(3);
    expect(await ids()).toEqual(['recent']);
    nowMs += 2 * DAY;
    expect(await gh.deps.events.prune()).toBeGreaterThanOrEqual(1);
    expect(await ids()).toEqual([]);
  });

  it('the deps prune at start: a new instance on old data drops what is past the retention', async () => {
    const db = gh.deps.storage.db;
    await db.insertInto('security_events').values({
      project_id: gh.project.id, environment: 'dev', type: 'token_rejected', ip: null, request_id: 'stale-at-start', details: '{}', created_at: new Date(nowMs - 90 * DAY).toISOString(),
    }).execute();
    const second = await startTestApp(engine, {
      clock: clockAt(() => nowMs), env: { GATEHOUSE_SECURITY_EVENT_RETENTION_DAYS: '30' },
      database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir },
    });
    try {
      await vi.waitFor(async () => {
        expect(await db.selectFrom('security_events').select('id').where('request_id', '=', 'stale-at-start').execute()).toHaveLength(0);
      });
    } finally {
      await second.close();
    }
  });
});

describe('security event pruning schedule', () => {
  it('prunes at start and every interval until stopped; 0 turns it off', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const events = { prune: async () => { calls++; return 0; } };
      const logger = { info: vi.fn(), error: vi.fn() } as unknown as Parameters<typeof startSecurityEventPruning>[1]['logger'];
      const pruning = startSecurityEventPruning(events, { intervalMs: 1000, logger });
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(3000);
      expect(calls).toBe(4);
      await pruning.stop();
      await vi.advanceTimersByTimeAsync(5000);
      expect(calls).toBe(4);
      // 0 turns it off.
      const off = startSecurityEventPruning(events, { intervalMs: 0, logger });
      await vi.advanceTimersByTimeAsync(5000);
      expect(calls).toBe(4);
      await off.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

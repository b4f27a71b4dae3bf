// What the request path keeps between requests (issue 18) must never change an answer: the policy
// table per validated config, the subjects and counter keys per caller, the settings handed over
// without a promise, and the memory store's counters held per key. Each is checked where it could
// go wrong: an override or tier change, a window boundary, an address in two projects, a clock
// stepping back, the key cap. On a real database (every engine) and on both stores.
import { counterStoreCases } from '../../test/harness/counter-stores.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { engines, type FreshDatabase } from '../../test/harness/engines.js';
import { migratedStorage } from '../../test/harness/storage.js';
import type { Storage } from '../db/index.js';
import { clockAt, systemClock } from '../shared/clock.js';
import { createProjectService } from '../tenancy/index.js';
import { createCallerSubjects } from './caller-subjects.js';
import { isPending, type LimitResult } from './decide.js';
import { createKeyMemo } from '../shared/key-memo.js';
import { MemoryStore } from './memory-store.js';
import { DEFAULT_LIMITS, policyOf, resolvePolicy, ROUTE_CLASSES, TIERS, validateLimitsConfig, type LimitsConfig, type Window } from './policy.js';
import { createRateLimitsOver, type CallerLimitInput, type RateLimits } from './service.js';
import { createLimitSettingsStore } from './settings-store.js';
import { createLimitSettings, type LimitSettings } from './settings.js';
import type { CounterStore } from './store.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2031, 0, 1);
const w = (limit: number, windowMs = MIN): Window => ({ limit, windowMs });
const redisUrl = inject('redisUrl');

describe('policyOf (the policy table per validated config)', () => {
  const config = validateLimitsConfig({
    ...DEFAULT_LIMITS,
    overrides: { 'user:u1': { data_read: [w(7)] }, 'key:k1': { llm: [w(3)], default: [w(4), w(40, HOUR)] } },
  });

  it('answers exactly as resolvePolicy for every class, tier and override id list', () => {
    const idLists = [[], ['user:u1'], ['key:k1'], ['user:u2'], ['user:u2', 'key:k1'], ['key:__proto__']];
    for (const routeClass of ROUTE_CLASSES) {
      for (const tier of TIERS) {
        for (const overrideIds of idLists) {
          expect(policyOf(config, routeClass, tier, overrideIds)).toEqual(resolvePolicy(config, { routeClass, tier, overrideIds }));
        }
      }
    }
  });

  it('a changed config (an override added, as the settings make it) answers anew at once', () => {
    expect(policyOf(config, 'data_read', 'user', ['user:u9']).windows).toEqual(DEFAULT_LIMITS.classes.data_read.tiers.user);
    const changed = validateLimitsConfig({ ...config, overrides: { ...config.overrides, 'user:u9': { data_read: [w(2)] } } });
    expect(policyOf(changed, 'data_read', 'user', ['user:u9']).windows).toEqual([w(2)]);
    expect(policyOf(config, 'data_read', 'user', ['user:u9']).windows).toEqual(DEFAULT_LIMITS.classes.data_read.tiers.user);
  });

  it('a config changed in place (not validated, so not frozen) is read afresh on every call', () => {
    const loose: LimitsConfig = structuredClone(DEFAULT_LIMITS) as LimitsConfig;
    expect(policyOf(loose, 'default', 'guest', []).windows).toEqual(DEFAULT_LIMITS.classes.default.tiers.guest);
    loose.classes.default.tiers.guest = [w(1)];
    expect(policyOf(loose, 'default', 'guest', []).windows).toEqual([w(1)]);
  });
});

describe('bounded memos', () => {
  it('a key memo keeps at most its cap, dropping the oldest', () => {
    const memo = createKeyMemo<number>(3);
    for (let i = 0; i < 10; i++) memo.set(`k${i}`, i);
    expect(memo.size).toBe(3);
    expect([memo.get('k6'), memo.get('k7'), memo.get('k9')]).toEqual([undefined, 7, 9]);
  });

  it('one address in two projects is two subjects, whichever was kept last', () => {
    const subjects = createCallerSubjects(2);
    const a = subjects.address('proja', 'dev', '192.0.2.1');
    const b = subjects.address('projb', 'dev', '192.0.2.1');
    expect(a.subject.key).not.toBe(b.subject.key);
    expect(subjects.address('proja', 'dev', '192.0.2.1').subject.key).toBe(a.subject.key);
    expect(subjects.address('proja', 'prod', '192.0.2.1').subject.key).not.toBe(a.subject.key);
    // A spray of fresh addresses churns the memo; the answer for the first is still right.
    for (let i = 0; i < 50; i++) subjects.address('proja', 'dev', `198.51.100.${i}`);
    expect(subjects.address('proja', 'dev', '192.0.2.1').subject).toEqual(a.subject);
  });

  it('a non-address is still refused (never kept)', () => {
    const subjects = createCallerSubjects();
    expect(() => subjects.address('proja', 'dev', 'not-an-ip')).toThrow(TypeError);
    expect(() => subjects.address('proja', 'dev', 'not-an-ip')).toThrow(TypeError);
  });
});

describe('memory store: counters held per key', () => {
  it('a policy that changes its windows keeps the count of a window of the same length', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 3; i++) await store.hit('s', [w(5)], T0);
    // Another window added: the minute keeps its 3, the hour starts at 0.
    const both = await store.hit('s', [w(5), w(100, HOUR)], T0 + 1);
    expect(both.windows.map((x) => x.remaining)).toEqual([1, 99]);
    expect(store.size).toBe(2);
    expect((await store.hit('s', [w(4)], T0 + 2)).allowed).toBe(false); // 4 counted in this minute
  });

  it('a clock stepping back counts in the earlier window apart, as a key per window index would', async () => {
    const store = new MemoryStore();
    await store.hit('s', [w(2)], T0 + MIN);
    await store.hit('s', [w(2)], T0 + MIN);
    const back = await store.hit('s', [w(2)], T0 + MIN - 1);
    expect(back.allowed).toBe(true);
    expect(back.windows[0]!.resetMs).toBe(T0 + MIN);
    expect((await store.hit('s', [w(2)], T0 + MIN + 1)).allowed).toBe(false);
  });

  it('at the cap, evicting a counter of the very key being hit neither loses the hit nor passes the cap', async () => {
    const store = new MemoryStore({ maxKeys: 2 });
    await store.hit('a', [w(10)], T0); // a's minute counter: the soonest to end
    await store.hit('z', [w(10, HOUR)], T0);
    // Inserting a's hour counter evicts a's minute counter, which this same hit then counts again.
    expect((await store.hit('a', [w(10, HOUR), w(10)], T0)).allowed).toBe(true);
    expect(store.size).toBe(2);
    const next = await store.hit('a', [w(10, HOUR), w(10)], T0);
    expect(next.windows.map((x) => x.remaining)).toEqual([8, 7]);
    expect(store.size).toBe(2);
  });
});

const STORES = counterStoreCases(redisUrl);

describe.each(engines())('checkCaller over the settings on %s', (engine) => {
  describe.each(STORES)('and the $name store', ({ name, available, open }) => {
    const test = available ? it : it.skip;
    let db: FreshDatabase;
    let storage: Storage;
    let store: CounterStore;
    let closeStore: () => Promise<void> = () => Promise.resolve();
    let projectId: string;
    let settings: LimitSettings;
    let limits: RateLimits;
    let nowMs = T0;

    beforeAll(async () => {
      if (!available) return;
      ({ store, close: closeStore } = await open());
    });
    afterAll(() => closeStore());
    beforeEach(async () => {
      if (!available) return;
      ({ db, storage } = await migratedStorage(engine));
      projectId = (await createProjectService({ db: storage.db, clock: systemClock, devOrigins: [] }).create('paths')).id;
      const base = validateLimitsConfig({ ...DEFAULT_LIMITS, classes: { ...DEFAULT_LIMITS.classes, default: { failMode: 'closed', tiers: { guest: [w(2)], user: [w(3)], admin: [w(6)] } } } });
      nowMs += 10 * HOUR; // fresh windows for every test, also in the shared Redis
      settings = createLimitSettings({ store: createLimitSettingsStore(storage.db), base, clock: clockAt(() => nowMs), onInvalidStored: () => {} });
      limits = createRateLimitsOver({ store, settings, base, onStoreError: () => {}, headers: 'both' });
    });
    afterEach(async () => {
      if (!available) return;
      await storage.close();
      await db.cleanup();
    });

    const userCall = (userId: string, extra: Partial<CallerLimitInput> = {}): CallerLimitInput => ({
      projectId, environment: 'dev', routeClass: 'default', tier: 'user', userId, keyId: 'k_pub', keyIsShared: true, ip: '192.0.2.1', nowMs, ...extra,
    });
    const allowedOf = async (n: number, input: () => CallerLimitInput) => {
      let allowed = 0;
      for (let i = 0; i < n; i++) if ((await limits.checkCaller(input())).allowed) allowed++;
      return allowed;
    };

    test('an override set or removed applies on the very next request', async () => {
      expect(await allowedOf(2, () => userCall('u_a'))).toBe(2);
      await settings.setOverride(projectId, 'dev', 'user:u_a', { default: [w(10)] }, 'test');
      expect(await allowedOf(10, () => userCall('u_a'))).toBe(8); // 2 counted already, 10 now allowed
      await settings.removeOverride(projectId, 'dev', 'user:u_a');
      const back = await limits.checkCaller(userCall('u_a'));
      expect([back.allowed, back.headers['X-RateLimit-Limit'], back.subject]).toEqual([false, '3', 'user:u_a']);
      // A key's override reaches its guests, counted by address.
      await settings.setOverride(projectId, 'dev', 'key:k_pub', { default: [w(4)] }, 'test');
      expect(await allowedOf(6, () => userCall('u_a', { userId: undefined, tier: 'guest' }))).toBe(4);
    });

    test('a tier change applies on the very next request, on the same counter', async () => {
      expect(await allowedOf(4, () => userCall('u_b'))).toBe(3);
      const admin = await limits.checkCaller(userCall('u_b', { tier: 'admin' }));
      expect([admin.allowed, admin.headers['X-RateLimit-Limit'], admin.headers['X-RateLimit-Remaining'], admin.tier]).toEqual([true, '6', '2', 'admin']);
      const user = await limits.checkCaller(userCall('u_b'));
      expect([user.allowed, user.tier, user.subject]).toEqual([false, 'user', 'user:u_b']);
    });

    test('headers are right on both sides of a window boundary, request after request', async () => {
      const start = Math.floor(nowMs / MIN) * MIN + MIN; // a minute boundary
      const at = async (ms: number) => (await limits.checkCaller(userCall('u_c', { nowMs: ms }))).headers;
      expect(await at(start - 2_000)).toMatchObject({ 'X-RateLimit-Remaining': '2', 'X-RateLimit-Reset': String(start / 1000), RateLimit: '"default-60s";r=2;t=2' });
      expect(await at(start - 1)).toMatchObject({ 'X-RateLimit-Remaining': '1', 'X-RateLimit-Reset': String(start / 1000), RateLimit: '"default-60s";r=1;t=1' });
      expect(await at(start)).toMatchObject({ 'X-RateLimit-Remaining': '2', 'X-RateLimit-Reset': String(start / 1000 + 60), RateLimit: '"default-60s";r=2;t=60' });
      expect(await at(start + 500)).toMatchObject({ 'X-RateLimit-Remaining': '1', 'X-RateLimit-Reset': String(start / 1000 + 60), RateLimit: '"default-60s";r=1;t=60' });
    });

    test('one address guesting in two projects has a counter in each', async () => {
      const other = (await createProjectService({ db: storage.db, clock: systemClock, devOrigins: [] }).create('paths2')).id;
      const guest = (p: string) => () => userCall('x', { projectId: p, userId: undefined, tier: 'guest' });
      expect(await allowedOf(3, guest(projectId))).toBe(2);
      expect(await allowedOf(3, guest(other))).toBe(2);
      expect(await allowedOf(1, guest(projectId))).toBe(0);
    });

    test(`answers ${name === 'memory' ? 'at once, without a promise,' : 'with a promise'} once the settings have arrived`, async () => {
      await limits.checkCaller(userCall('u_d')); // the settings' first read
      const answer = limits.checkCaller(userCall('u_d'));
      expect(isPending(answer)).toBe(name !== 'memory');
      const result: LimitResult = await answer;
      expect([result.allowed, result.headers['X-RateLimit-Remaining']]).toEqual([true, '1']);
      expect(isPending(limits.checkAddress('192.0.2.1', nowMs))).toBe(name !== 'memory');
    });
  });
});

// One suite, every store: the memory store always, Redis whenever the run has one (always in CI).
import { randomUUID } from 'node:crypto';
import { counterStoreCases } from '../../test/harness/counter-stores.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLimiter } from './decide.js';
import { DEFAULT_LIMITS, type LimitsConfig, type RouteClass, type Tier, type Window } from './policy.js';
import type { LimiterStore } from './store.js';
import { resolveSubject, type SubjectInput } from './subject.js';

const redisUrl = inject('redisUrl');

const MIN = 60_000;
const HOUR = 3_600_000;
/** 2030-01-01T00:00:00Z: aligned to minutes and hours, so window boundaries fall on round offsets. */
const T0 = Date.UTC(2030, 0, 1);
const perMin = (limit: number): Window => ({ limit, windowMs: MIN });

/** DEFAULT_LIMITS with every tier of `default` set to `windows` unless tiers are given. */
function configWith(windows: Window[], extra: Partial<Pick<LimitsConfig, 'overrides'>> & { tiers?: Record<Tier, Window[]> } = {}): LimitsConfig {
  return {
    classes: {
      ...DEFAULT_LIMITS.classes,
      default: { failMode: 'closed', tiers: extra.tiers ?? { guest: windows, user: windows, admin: windows } },
    },
    overrides: extra.overrides ?? {},
  };
}

const CASES = counterStoreCases(redisUrl);

describe.each(CASES)('limits on the $name store', ({ available, open }) => {
  const test = available ? it : it.skip;
  let store: LimiterStore;
  let close: () => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    if (!available) return;
    ({ store, close } = await open());
  });
  afterAll(() => close());

  /** A limiter over `config`, plus a fresh subject per call so tests never share counters. */
  function setup(config: LimitsConfig | (() => LimitsConfig)) {
    const limiter = createLimiter({
      store,
      headers: 'both',
      config: typeof config === 'function' ? config : () => config,
      onStoreError: () => {
        throw new Error('store must not fail here');
      },
    });
    const projectId = `p_${randomUUID()}`;
    const subject = (input: Partial<SubjectInput> = {}) =>
      resolveSubject({ projectId, environment: 'prod', userId: 'u_1', ip: '203.0.113.9', ...input });
    const check = (nowMs: number, o: { routeClass?: RouteClass; tier?: Tier; who?: Partial<SubjectInput> } = {}) =>
      limiter.check({ routeClass: o.routeClass ?? 'default', tier: o.tier ?? 'user', subject: subject(o.who), nowMs });
    /** How many of `n` requests at `nowMs` are allowed. */
    const allowedOf = async (n: number, nowMs: number, o: Parameters<typeof check>[1] = {}) => {
      let allowed = 0;
      for (let i = 0; i < n; i++) if ((await check(nowMs, o)).allowed) allowed++;
      return allowed;
    };
    return { check, allowedOf };
  }

  test('a 10/min window allows 10 requests, then denies', async () => {
    const { check, allowedOf } = setup(configWith([perMin(10)]));
    expect(await allowedOf(10, T0 + 1_000)).toBe(10);
    const denied = await check(T0 + 2_000);
    expect(denied.allowed).toBe(false);
    expect(denied.unavailable).toBeUndefined();
  });

  test('with 10/min and 50/hour, the hour window bites after five minutes of ten', async () => {
    const { check, allowedOf } = setup(configWith([perMin(10), { limit: 50, windowMs: HOUR }]));
    for (let minute = 0; minute < 5; minute++) {
      expect(await allowedOf(11, T0 + minute * MIN + 500)).toBe(10);
    }
    const sixth = await check(T0 + 5 * MIN + 500);
    expect(sixth.allowed).toBe(false);
    // The minute window has room; the hour window is what refuses, until the top of the hour.
    expect(sixth.retryAfterS).toBe(3300); // 55 min - 0.5 s, rounded up
    expect(sixth.headers['X-RateLimit-Limit']).toBe('50');
    expect(sixth.headers['X-RateLimit-Reset']).toBe(String((T0 + HOUR) / 1000));
    expect((await check(T0 + HOUR)).allowed).toBe(true);
  });

  test('denied requests do not consume any window', async () => {
    const { allowedOf } = setup(configWith([perMin(2), { limit: 5, windowMs: HOUR }]));
    // Minute 0: 2 allowed, 8 refused by the minute window. Had the refusals counted in the hour
    // window, it would be full already.
    expect(await allowedOf(10, T0)).toBe(2);
    expect(await allowedOf(10, T0 + MIN)).toBe(2);
    expect(await allowedOf(10, T0 + 2 * MIN)).toBe(1);
  });

  test('window reset frees the subject exactly at the boundary', async () => {
    const { check, allowedOf } = setup(configWith([perMin(3)]));
    expect(await allowedOf(3, T0 + 10_000)).toBe(3);
    expect((await check(T0 + MIN - 1)).allowed).toBe(false);
    expect((await check(T0 + MIN)).allowed).toBe(true);
  });

  test('headers carry exact limit, remaining, reset seconds and IETF fields', async () => {
    const { check, allowedOf } = setup(configWith([perMin(10)]));
    const first = await check(T0 + 15_500);
    // Allowed results build their headers when read (a getter), so compare what a reader sees.
    expect({ allowed: first.allowed, headers: first.headers }).toEqual({
      allowed: true,
      headers: {
        'X-RateLimit-Limit': '10',
        'X-RateLimit-Remaining': '9',
        'X-RateLimit-Reset': String((T0 + MIN) / 1000),
        'RateLimit-Policy': '"default-60s";q=10;w=60',
        RateLimit: '"default-60s";r=9;t=45',
      },
    });
    await allowedOf(9, T0 + 15_500);
    const denied = await check(T0 + 15_500);
    expect(denied).toEqual({
      allowed: false,
      retryAfterS: 45, // 44.5 s rounded up
      headers: {
        'X-RateLimit-Limit': '10',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String((T0 + MIN) / 1000),
        'RateLimit-Policy': '"default-60s";q=10;w=60',
        RateLimit: '"default-60s";r=0;t=45',
        'Retry-After': '45',
      },
    });
    // One millisecond before the boundary: Retry-After is 1, never 0.
    const last = await check(T0 + MIN - 1);
    expect(last.headers['Retry-After']).toBe('1');
    expect(last.retryAfterS).toBe(1);
  });

  test('headers list every window and report the one with the fewest requests left', async () => {
    const windows = [perMin(10), { limit: 3, windowMs: HOUR }];
    const { check } = setup({
      classes: { ...DEFAULT_LIMITS.classes, llm: { failMode: 'closed', tiers: { guest: windows, user: windows, admin: windows } } },
      overrides: {},
    });
    const r = await check(T0 + 30_000, { routeClass: 'llm' });
    expect(r.headers).toEqual({
      'X-RateLimit-Limit': '3',
      'X-RateLimit-Remaining': '2',
      'X-RateLimit-Reset': String((T0 + HOUR) / 1000),
      'RateLimit-Policy': '"llm-60s";q=10;w=60, "llm-3600s";q=3;w=3600',
      RateLimit: '"llm-3600s";r=2;t=3570',
    });
  });

  test('an override raises one user and lowers another, leaving a third on the tier', async () => {
    const { allowedOf } = setup(
      configWith([perMin(5)], { overrides: { 'user:u_low': { default: [perMin(2)] }, 'user:u_high': { default: [perMin(8)] } } }),
    );
    expect(await allowedOf(10, T0, { who: { userId: 'u_low' } })).toBe(2);
    expect(await allowedOf(10, T0, { who: { userId: 'u_high' } })).toBe(8);
    expect(await allowedOf(10, T0, { who: { userId: 'u_plain' } })).toBe(5);
    // An override for a class other than the one requested changes nothing.
    expect(await allowedOf(10, T0, { who: { userId: 'u_low' }, routeClass: 'data_write' })).toBe(10);
  });

  test('an API-key override applies to requests with that key and no user', async () => {
    const { allowedOf } = setup(configWith([perMin(5)], { overrides: { 'key:k_9': { default: [perMin(1)] } } }));
    expect(await allowedOf(3, T0, { who: { userId: undefined, keyId: 'k_9' } })).toBe(1);
    expect(await allowedOf(3, T0, { who: { userId: undefined, keyId: 'k_8' } })).toBe(3);
  });

  test('tiers get different limits', async () => {
    const { allowedOf } = setup(configWith([], { tiers: { guest: [perMin(2)], user: [perMin(4)], admin: [perMin(6)] } }));
    expect(await allowedOf(10, T0, { tier: 'guest', who: { userId: undefined, ip: '198.51.100.1' } })).toBe(2);
    expect(await allowedOf(10, T0, { tier: 'user', who: { userId: 'u_a' } })).toBe(4);
    expect(await allowedOf(10, T0, { tier: 'admin', who: { userId: 'u_b' } })).toBe(6);
  });

  test('limits changed in the config apply on the next request, without a restart', async () => {
    let config = configWith([perMin(2)]);
    const { allowedOf } = setup(() => config);
    expect(await allowedOf(5, T0)).toBe(2);
    config = configWith([perMin(4)]);
    expect(await allowedOf(5, T0)).toBe(2);
  });

  test('two environments of one project never share a counter', async () => {
    const { allowedOf } = setup(configWith([perMin(3)]));
    expect(await allowedOf(5, T0, { who: { environment: 'dev' } })).toBe(3);
    expect(await allowedOf(5, T0, { who: { environment: 'prod' } })).toBe(3);
    expect(await allowedOf(5, T0, { who: { environment: 'staging' } })).toBe(3);
  });

  test('route classes count separately', async () => {
    const { allowedOf } = setup(configWith([perMin(3)]));
    expect(await allowedOf(5, T0, { routeClass: 'default' })).toBe(3);
    expect(await allowedOf(5, T0, { routeClass: 'llm' })).toBe(5);
  });

  test('IPv6 addresses of one /64 share a counter; the next /64 does not', async () => {
    const { allowedOf } = setup(configWith([perMin(3)]));
    const guest = (ip: string) => ({ tier: 'guest' as const, who: { userId: undefined, ip } });
    expect(await allowedOf(2, T0, guest('2001:db8:1:2::1'))).toBe(2);
    expect(await allowedOf(5, T0, guest('2001:DB8:1:2:ffff:ffff:ffff:fffe'))).toBe(1);
    expect(await allowedOf(5, T0, guest('2001:db8:1:3::1'))).toBe(3);
  });

  test('an IPv4-mapped IPv6 address counts as its IPv4 address', async () => {
    const { allowedOf } = setup(configWith([perMin(3)]));
    const guest = (ip: string) => ({ tier: 'guest' as const, who: { userId: undefined, ip } });
    expect(await allowedOf(2, T0, guest('192.0.2.7'))).toBe(2);
    expect(await allowedOf(5, T0, guest('::ffff:192.0.2.7'))).toBe(1);
  });
});

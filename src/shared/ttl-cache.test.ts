import { describe, expect, it } from 'vitest';
import { clockAt, systemClock } from './clock.js';
import { createTtlCache } from './ttl-cache.js';

describe('createTtlCache', () => {
  it('forgets entries after the TTL and keeps at most maxEntries, oldest out first', () => {
    let now = 0;
    const cache = createTtlCache<number>({ ttlMs: 100, maxEntries: 2, clock: clockAt(() => now) });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    now = 100;
    expect(cache.get('b')).toBeUndefined();
  });

  it('an entry expires on the injected clock, never on real time', () => {
    let now = 5_000;
    const cache = createTtlCache<number>({ ttlMs: 1000, clock: clockAt(() => now) });
    cache.set('a', 1);
    now += 999;
    expect(cache.get('a')).toBe(1);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
  });

  it('a clock stepping back ends an entry instead of keeping it past its TTL', () => {
    let now = 10_000;
    const cache = createTtlCache<number>({ ttlMs: 1000, clock: clockAt(() => now) });
    cache.set('revocable', 1);
    now -= 60_000; // NTP steps the wall clock back a minute
    expect(cache.get('revocable')).toBeUndefined();
  });

  it('a per-entry TTL overrides the cache TTL', () => {
    let now = 0;
    const cache = createTtlCache<string>({ ttlMs: 1000, clock: clockAt(() => now) });
    cache.set('token', 'claims', { ttlMs: 60_000 });
    cache.set('expired', 'claims', { ttlMs: 0 });
    now = 59_999;
    expect(cache.get('token')).toBe('claims');
    expect(cache.get('expired')).toBeUndefined();
    now = 60_000;
    expect(cache.get('token')).toBeUndefined();
  });

  it('drops a value looked up before an eviction: a lookup that raced a revocation cannot put it back', () => {
    const cache = createTtlCache<string>({ ttlMs: 1000, clock: systemClock });
    const since = cache.epoch();
    cache.deleteWhere((v) => v === 'whatever'); // e.g. a session revoked meanwhile
    cache.set('s1', 'active', { since });
    expect(cache.get('s1')).toBeUndefined();
    cache.set('s1', 'active', { since: cache.epoch() });
    expect(cache.get('s1')).toBe('active');
  });

  it('shares one load between concurrent misses and does not keep a failed one', async () => {
    const cache = createTtlCache<Promise<number>>({ ttlMs: 1000, clock: systemClock });
    let loads = 0;
    const a = cache.getOrLoad('k', async () => ++loads);
    const b = cache.getOrLoad('k', async () => ++loads);
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    const failing = cache.getOrLoad('bad', () => Promise.reject(new Error('db down')));
    await expect(failing).rejects.toThrow('db down');
    expect(await cache.getOrLoad('bad', async () => 7)).toBe(7);
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = createTtlCache<number>({ ttlMs: 0, clock: systemClock });
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

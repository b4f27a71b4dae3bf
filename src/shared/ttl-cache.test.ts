import { describe, expect, it } from 'vitest';
import { createTtlCache } from './ttl-cache.js';

describe('createTtlCache', () => {
  it('forgets entries after the TTL and keeps at most maxEntries, oldest out first', () => {
    let now = 0;
    const cache = createTtlCache<number>({ ttlMs: 100, maxEntries: 2, now: () => now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    now = 100;
    expect(cache.get('b')).toBeUndefined();
  });

  it('drops a value looked up before an eviction: a lookup that raced a revocation cannot put it back', () => {
    const cache = createTtlCache<string>({ ttlMs: 1000 });
    const since = cache.epoch();
    cache.deleteWhere((v) => v === 'whatever'); // e.g. a session revoked meanwhile
    cache.set('s1', 'active', since);
    expect(cache.get('s1')).toBeUndefined();
    cache.set('s1', 'active', cache.epoch());
    expect(cache.get('s1')).toBe('active');
  });

  it('shares one load between concurrent misses and does not keep a failed one', async () => {
    const cache = createTtlCache<Promise<number>>({ ttlMs: 1000 });
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
    const cache = createTtlCache<number>({ ttlMs: 0 });
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clockAt, systemClock } from './clock.js';
import { createTtlCache } from './ttl-cache.js';

describe('createTtlCache', () => {
  /** Entries set at `start` on the injected clock, then read at other times of it. */
  const expiries: Array<{
    name: string; ttlMs: number; maxEntries?: number; start: number;
    set: Array<[key: string, value: number, options?: { ttlMs: number }]>;
    reads: Array<[now: number, key: string, expected: number | undefined]>;
  }> = [
    {
      name: 'forgets entries after the TTL and keeps at most maxEntries, oldest out first', ttlMs: 100, maxEntries: 2, start: 0,
      set: [['a', 1], ['b', 2], ['c', 3]],
      reads: [[0, 'a', undefined], [0, 'b', 2], [0, 'c', 3], [100, 'b', undefined]],
    },
    {
      name: 'an entry expires on the injected clock, never on real time', ttlMs: 1000, start: 5_000,
      set: [['a', 1]],
      reads: [[5_999, 'a', 1], [6_000, 'a', undefined]],
    },
    {
      // NTP steps the wall clock back a minute.
      name: 'a clock stepping back ends an entry instead of keeping it past its TTL', ttlMs: 1000, start: 10_000,
      set: [['revocable', 1]],
      reads: [[10_000 - 60_000, 'revocable', undefined]],
    },
    {
      name: 'a per-entry TTL overrides the cache TTL', ttlMs: 1000, start: 0,
      set: [['token', 1, { ttlMs: 60_000 }], ['expired', 1, { ttlMs: 0 }]],
      reads: [[59_999, 'token', 1], [59_999, 'expired', undefined], [60_000, 'token', undefined]],
    },
    { name: 'caches nothing with a TTL of 0', ttlMs: 0, start: 0, set: [['a', 1]], reads: [[0, 'a', undefined]] },
  ];

  // A loop rather than it.each: the names are printed whole.
  for (const { name, ttlMs, maxEntries, start, set, reads } of expiries) {
    it(name, () => {
      let now = start;
      const cache = createTtlCache<number>({ ttlMs, maxEntries, clock: clockAt(() => now) });
      for (const [key, value, options] of set) cache.set(key, value, options);
      for (const [at, key, expected] of reads) {
        now = at;
        expect(cache.get(key), `${key} at ${at}`).toBe(expected);
      }
    });
  }

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

  describe('keep-warm', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** A load whose answers the test hands out one by one. */
    function controlledLoad() {
      const pending: Array<(v: number) => void> = [];
      let calls = 0;
      return {
        load: () => new Promise<number>((resolve) => { calls++; pending.push(resolve); }),
        answer: (v: number) => pending.shift()!(v),
        get calls() { return calls; },
      };
    }

    it('reads an entry in use again before it expires, so a request after a quiet spell finds it', async () => {
      const cache = createTtlCache<Promise<number>>({ ttlMs: 200, clock: systemClock, keepWarmMs: 10_000 });
      let loads = 0;
      expect(await cache.getOrLoad('k', async () => ++loads)).toBe(1);
      await sleep(500); // more than two TTLs of quiet
      expect(loads).toBeGreaterThanOrEqual(2);
      const hit = cache.get('k');
      expect(hit).toBeDefined();
      expect(await hit).toBe(loads);
    });

    for (const { name, keepWarmMs } of [
      { name: 'lets an entry nobody read within keepWarmMs expire', keepWarmMs: 5 },
      { name: 'without keepWarmMs nothing is read again', keepWarmMs: undefined },
    ]) {
      it(name, async () => {
        const cache = createTtlCache<Promise<number>>({ ttlMs: 40, clock: systemClock, keepWarmMs });
        let loads = 0;
        await cache.getOrLoad('k', async () => ++loads);
        await sleep(100);
        expect(loads).toBe(1);
        expect(cache.get('k')).toBeUndefined();
      });
    }

    /**
     * A warm entry (TTL 40 on the injected clock) read once with the answer 1, whose background
     * read has started at `readAt` and waits for the test's answer.
     */
    async function secondReadStarted(readAt: number) {
      const at = { now: 0 };
      const control = controlledLoad();
      const cache = createTtlCache<Promise<number>>({ ttlMs: 40, clock: clockAt(() => at.now), keepWarmMs: 10_000 });
      const first = cache.getOrLoad('k', control.load);
      control.answer(1);
      expect(await first).toBe(1);
      at.now = readAt;
      await sleep(120); // the refresh (at ttl - ttl/4 = 30 ms of real time) starts the second read
      expect(control.calls).toBe(2);
      return { at, control, cache };
    }

    it('a fresh value expires ttlMs after its read began, never later', async () => {
      const { at, control, cache } = await secondReadStarted(25);
      at.now = 39; // the read answers just before the first entry would have expired
      control.answer(2);
      await sleep(0);
      expect(await cache.get('k')).toBe(2);
      at.now = 64;
      expect(await cache.get('k')).toBe(2);
      at.now = 65; // 25 + 40: the TTL counts from when the read began
      expect(cache.get('k')).toBeUndefined();
    });

    it('drops a fresh value when an eviction happened during its read (a revocation is not undone)', async () => {
      const { at, control, cache } = await secondReadStarted(0);
      cache.deleteWhere((_v, key) => key === 'someone-else'); // an eviction elsewhere: the read may predate it
      control.answer(2);
      await sleep(0);
      expect(await cache.get('k')).toBe(1); // the old entry stays until its own expiry
      at.now = 40;
      expect(cache.get('k')).toBeUndefined();
    });

    it('a failed read leaves the old entry to expire as it would have', async () => {
      let now = 0;
      let fail = false;
      const cache = createTtlCache<Promise<number>>({ ttlMs: 40, clock: clockAt(() => now), keepWarmMs: 10_000 });
      await cache.getOrLoad('k', async () => {
        if (fail) throw new Error('db down');
        return 1;
      });
      fail = true;
      await sleep(120);
      expect(await cache.get('k')).toBe(1);
      now = 40;
      expect(cache.get('k')).toBeUndefined();
    });

    it('an entry whose reload finds nothing is dropped at once', async () => {
      const cache = createTtlCache<string>({ ttlMs: 40, clock: clockAt(() => 0), keepWarmMs: 10_000 }); // never expires on its own
      cache.set('key', 'row', { reload: async () => undefined });
      expect(cache.get('key')).toBe('row');
      await sleep(120);
      expect(cache.get('key')).toBeUndefined();
    });

    describe('one timer per cache', () => {
      afterEach(() => { vi.restoreAllMocks(); });
      const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

      it('serves every warm entry with one timer, which never keeps the process alive', () => {
        const before = timeouts();
        const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
        const cache = createTtlCache<string>({ ttlMs: 60_000, clock: systemClock, keepWarmMs: 10_000 });
        for (let i = 0; i < 50; i++) cache.set(`k${i}`, 'row', { reload: async () => ({ value: 'row' }) });
        expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
        // getActiveResourcesInfo lists what keeps the event loop alive: an unref'd timer is not in it.
        expect(timeouts()).toBe(before);
        cache.clear();
      });

      it('an entry due sooner than the armed one is still read before its own expiry', async () => {
        const cache = createTtlCache<string>({ ttlMs: 1000, clock: systemClock, keepWarmMs: 10_000 });
        const reads = { slow: 0, fast: 0 };
        const reload = (key: 'slow' | 'fast') => async () => ({ value: `${key} ${++reads[key]}` });
        cache.set('slow', 'slow 0', { ttlMs: 2_000, reload: reload('slow') }); // arms the timer for 1,750 ms
        cache.set('fast', 'fast 0', { ttlMs: 200, reload: reload('fast') }); // due at 150 ms
        await sleep(300); // past the first value's expiry (200 ms)
        expect(reads.fast).toBeGreaterThanOrEqual(1);
        expect(cache.get('fast')).toBe(`fast ${reads.fast}`);
        expect(reads.slow).toBe(0);
        expect(cache.get('slow')).toBe('slow 0');
      });

      it('entries dropped or cleared are not read again, and a cleared cache holds no timer', async () => {
        const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
        const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
        const cache = createTtlCache<string>({ ttlMs: 40, clock: clockAt(() => 0), keepWarmMs: 10_000 });
        let reads = 0;
        const reload = async () => ({ value: `row ${++reads}` });
        cache.set('a', 'row', { reload });
        cache.set('b', 'row', { reload });
        cache.delete('a');
        await delay(120); // node:timers/promises: not through the spied global setTimeout
        expect(reads).toBeGreaterThanOrEqual(1);
        expect(cache.get('a')).toBeUndefined();
        expect(cache.get('b')).toBe(`row ${reads}`);
        cache.clear();
        const timer = setTimeoutSpy.mock.results.at(-1)!.value as NodeJS.Timeout;
        expect(clearTimeoutSpy).toHaveBeenLastCalledWith(timer);
        const after = reads;
        await delay(120);
        expect(reads).toBe(after);
      });
    });

    it('keeps at most keepWarmMax entries warm; the others expire as before', async () => {
      const cache = createTtlCache<Promise<number>>({ ttlMs: 200, clock: systemClock, keepWarmMs: 10_000, keepWarmMax: 1 });
      const loads = { a: 0, b: 0 };
      await cache.getOrLoad('a', async () => ++loads.a);
      await cache.getOrLoad('b', async () => ++loads.b);
      await sleep(500);
      expect(loads.a).toBeGreaterThanOrEqual(2);
      expect(loads.b).toBe(1);
      expect(cache.get('a')).toBeDefined();
      expect(cache.get('b')).toBeUndefined();
    });
  });
});

import type { Clock } from './clock.js';

/** How long after its last read an entry of a keep-warm cache is still read afresh: a minute of quiet. */
export const KEEP_WARM_MS = 60_000;

/** Reads an entry's value afresh for keep-warm: `undefined` when there is none any more (the entry goes). */
export type Reload<V> = () => Promise<{ value: V } | undefined>;

/**
 * The one in-process cache: lookups on the request path whose staleness is
 * bounded by design (a revoked session or a changed setting is seen within
 * `ttlMs` on every instance, and at once on the instance that made the change,
 * which evicts). Values are usually promises, so concurrent misses share one
 * lookup. Ages are read from the injected clock, so a test advances time
 * instead of sleeping; an entry is valid only while `storedAt <= now <
 * expiresAt`, so a clock that steps back ends entries early instead of keeping
 * them past their TTL. Hand-written: the libraries (lru-cache and friends)
 * bring far more than a bounded Map with an expiry needs.
 *
 * Keep-warm (`keepWarmMs`, issue 18): an entry read within the last `keepWarmMs` is read afresh in
 * the background shortly before it expires, so a request after a quiet spell finds it in memory
 * instead of paying the database read on its own path. The bound does not move: the fresh value
 * expires `ttlMs` after its read *began*, a failed read leaves the old entry to expire as before,
 * and an eviction during the read drops it (`since`). Each warm entry costs a read per TTL while
 * it is in use: for caches with few entries (one per environment, provider or API key), or with
 * `keepWarmMax` bounding how many are warm at once (sessions). One timer per cache serves all its
 * warm entries (armed for the soonest refresh, unref'd: it never keeps the process alive).
 */
export interface TtlCache<V> {
  get(key: string): V | undefined;
  /**
   * `since` (from `epoch()` before a lookup began) drops the value if an
   * eviction happened meanwhile: a lookup that raced a revocation must not
   * put the pre-revocation answer back. `ttlMs` overrides the cache's TTL for
   * this entry (e.g. until a token's own expiry).
   */
  set(key: string, value: V, options?: { since?: number; ttlMs?: number; reload?: Reload<V> }): void;
  /** Bumped by every eviction. */
  epoch(): number;
  /** Looks up, or runs `load` once and caches what it returns (a rejected promise is not kept). */
  getOrLoad(key: string, load: () => V): V;
  delete(key: string): void;
  /** Evicts every entry whose value matches (e.g. all sessions of one user). */
  deleteWhere(test: (value: V, key: string) => boolean): void;
  clear(): void;
  readonly size: number;
}

export function createTtlCache<V>({ ttlMs, maxEntries = 10_000, clock, keepWarmMs = 0, keepWarmMax = Number.POSITIVE_INFINITY }: {
  ttlMs: number;
  /** Entries read within this many ms are read afresh before they expire (0: never). */
  keepWarmMs?: number;
  /** At most this many entries kept warm at once (the rest expire as without keep-warm): bounds the background reads. */
  keepWarmMax?: number;
  /** Past this the oldest entry goes: memory stays bounded under a flood of distinct keys. */
  maxEntries?: number;
  clock: Pick<Clock, 'nowMs'>;
}): TtlCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('createTtlCache: maxEntries must be a positive integer');
  /** A scheduled refresh, on the monotonic clock (performance.now): timers run on real time, not the injected clock. */
  interface Refresh { at: number; earliest: number; reload: Reload<V> }
  interface Entry { value: V; storedAt: number; expiresAt: number; readAt: number; refresh?: Refresh }
  const entries = new Map<string, Entry>();
  let evictions = 0;
  /** Entries with a refresh scheduled, all served by the one sweep timer. */
  const warm = new Map<string, Entry>();
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweepAt = Number.POSITIVE_INFINITY;

  function drop(key: string): void {
    if (warm.delete(key) && warm.size === 0) disarm();
    entries.delete(key);
  }

  function disarm(): void {
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
    sweepAt = Number.POSITIVE_INFINITY;
  }

  /** The sweep runs at `at` unless it is armed for sooner already. */
  function arm(at: number): void {
    if (at >= sweepAt) return;
    clearTimeout(sweepTimer);
    sweepAt = at;
    sweepTimer = setTimeout(sweep, Math.max(0, at - performance.now()));
    sweepTimer.unref();
  }

  /** Starts the refreshes that are due, then arms for the next one. */
  function sweep(): void {
    sweepTimer = undefined;
    sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [key, entry] of warm) {
      const refresh = entry.refresh!;
      if (refresh.earliest > now) {
        next = Math.min(next, refresh.at);
        continue;
      }
      warm.delete(key);
      entry.refresh = undefined;
      refreshNow(key, entry, refresh.reload);
    }
    if (next < Number.POSITIVE_INFINITY) arm(next);
  }

  function get(key: string): V | undefined {
    const hit = entries.get(key);
    if (!hit) return undefined;
    const now = clock.nowMs();
    if (now < hit.expiresAt && now >= hit.storedAt) {
      hit.readAt = now;
      return hit.value;
    }
    drop(key);
    return undefined;
  }

  /** Reads the entry afresh shortly before it expires, if it was read lately (see keepWarmMs). */
  function scheduleRefresh(key: string, entry: Entry, reload: Reload<V>): void {
    if (warm.size >= keepWarmMax) return;
    const ttl = entry.expiresAt - entry.storedAt;
    // Early enough for a read to land before expiry, late enough not to read twice per TTL.
    const lead = Math.min(ttl / 4, 250);
    const at = performance.now() + Math.max(0, ttl - lead);
    // A sweep also takes the entries due within half their lead: one pass for entries stored close
    // together, instead of a pass (over every warm entry) for each.
    entry.refresh = { at, earliest: at - lead / 2, reload };
    warm.set(key, entry);
    arm(at);
  }

  function refreshNow(key: string, entry: Entry, reload: Reload<V>): void {
    if (entries.get(key) !== entry || clock.nowMs() - entry.readAt > keepWarmMs) return;
    const ttl = entry.expiresAt - entry.storedAt;
    const since = evictions;
    const startedAt = clock.nowMs();
    reload().then((fresh) => {
      if (entries.get(key) !== entry || since !== evictions) return;
      if (fresh === undefined) return drop(key);
      set(key, fresh.value, { since, ttlMs: ttl, reload, storedAt: startedAt, readAt: entry.readAt });
    }, () => {
      // Left to expire as without keep-warm: the next request reads it and sees the failure.
    });
  }

  function set(key: string, value: V, options?: { since?: number; ttlMs?: number; reload?: Reload<V>; storedAt?: number; readAt?: number }): void {
    const ttl = options?.ttlMs ?? ttlMs;
    if (!(ttl > 0) || (options?.since !== undefined && options.since !== evictions)) return;
    drop(key); // re-inserted last: insertion order is eviction order
    if (entries.size >= maxEntries) drop(entries.keys().next().value as string);
    const now = clock.nowMs();
    const storedAt = Math.min(options?.storedAt ?? now, now);
    const entry: Entry = { value, storedAt, expiresAt: storedAt + ttl, readAt: options?.readAt ?? now };
    entries.set(key, entry);
    if (keepWarmMs > 0 && options?.reload) scheduleRefresh(key, entry, options.reload);
  }

  return {
    get,
    set,
    epoch: () => evictions,
    getOrLoad(key, load) {
      const hit = get(key);
      if (hit !== undefined) return hit;
      const value = load();
      // Keep-warm reads the value again the same way, and keeps the new one once it has resolved.
      const reload: Reload<V> | undefined = keepWarmMs > 0 ? () => {
        const fresh = load();
        return fresh instanceof Promise ? fresh.then(() => ({ value: fresh })) : Promise.resolve({ value: fresh });
      } : undefined;
      set(key, value, { reload });
      if (value instanceof Promise) {
        value.catch(() => {
          if (entries.get(key)?.value === value) drop(key);
        });
      }
      return value;
    },
    delete(key) {
      evictions++;
      drop(key);
    },
    deleteWhere(test) {
      evictions++;
      for (const [key, entry] of entries) if (test(entry.value, key)) drop(key);
    },
    clear() {
      evictions++;
      for (const key of [...entries.keys()]) drop(key);
    },
    get size() {
      return entries.size;
    },
  };
}

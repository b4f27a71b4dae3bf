import type { Clock } from './clock.js';

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
 */
export interface TtlCache<V> {
  get(key: string): V | undefined;
  /**
   * `since` (from `epoch()` before a lookup began) drops the value if an
   * eviction happened meanwhile: a lookup that raced a revocation must not
   * put the pre-revocation answer back. `ttlMs` overrides the cache's TTL for
   * this entry (e.g. until a token's own expiry).
   */
  set(key: string, value: V, options?: { since?: number; ttlMs?: number }): void;
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

export function createTtlCache<V>({ ttlMs, maxEntries = 10_000, clock }: {
  ttlMs: number;
  /** Past this the oldest entry goes: memory stays bounded under a flood of distinct keys. */
  maxEntries?: number;
  clock: Pick<Clock, 'nowMs'>;
}): TtlCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('createTtlCache: maxEntries must be a positive integer');
  const entries = new Map<string, { value: V; storedAt: number; expiresAt: number }>();
  let evictions = 0;

  function get(key: string): V | undefined {
    const hit = entries.get(key);
    if (!hit) return undefined;
    const now = clock.nowMs();
    if (now < hit.expiresAt && now >= hit.storedAt) return hit.value;
    entries.delete(key);
    return undefined;
  }

  function set(key: string, value: V, options?: { since?: number; ttlMs?: number }): void {
    const ttl = options?.ttlMs ?? ttlMs;
    if (!(ttl > 0) || (options?.since !== undefined && options.since !== evictions)) return;
    entries.delete(key); // re-inserted last: insertion order is eviction order
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    const now = clock.nowMs();
    entries.set(key, { value, storedAt: now, expiresAt: now + ttl });
  }

  return {
    get,
    set,
    epoch: () => evictions,
    getOrLoad(key, load) {
      const hit = get(key);
      if (hit !== undefined) return hit;
      const value = load();
      set(key, value);
      if (value instanceof Promise) {
        value.catch(() => {
          if (entries.get(key)?.value === value) entries.delete(key);
        });
      }
      return value;
    },
    delete(key) {
      evictions++;
      entries.delete(key);
    },
    deleteWhere(test) {
      evictions++;
      for (const [key, entry] of entries) if (test(entry.value, key)) entries.delete(key);
    },
    clear() {
      evictions++;
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

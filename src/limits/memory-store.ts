// In-process counters for a single instance (no Redis configured): windows, totals and attempts.
// Several instances each count on their own, so a deployment with more than one instance needs
// the Redis store. Every method is synchronous from read to write (the Promise is only for the
// interface): nothing else runs on this event loop in between, which is what makes each one atomic.
//
// A hit makes one Map lookup: counters are held per key (subject and route class), each key
// holding its live counters, one per window (usually one to three). The caller passes the same
// key string on every request of a subject (service.ts caches it), so the lookup hashes nothing.
//
// Window counters are bounded two ways:
// - expiry: a counter lives until its window ends. Window ends are aligned to the epoch, so all
//   live counters share only a handful of distinct end times; counters are grouped by end time
//   and a whole group is dropped as soon as a hit arrives at or after it (lazy sweep, no timer,
//   O(expired) work). With no traffic nothing is swept, and nothing grows either.
// - a hard cap on live counters (default 1e6, about 150 MB worst case). At the cap, the counters
//   closest to their end are evicted first: they carry the least remaining state, so the most a
//   flood of fresh subjects can achieve is resetting a few nearly-finished windows early, rather
//   than the store refusing everyone (which a fail-closed class would turn into an outage).
//
// Totals (quotas) are few, one per subject and period, and swept at most once a minute. Attempts
// are capped (default 100,000): the least recently written goes first, so a spray of keys cannot
// grow memory without limit.
import type { Window } from './policy.js';
import {
  checkTotal, decisionFromCounts, TOTAL_GRACE_MS, type AttemptState, type CounterStore, type Decision,
} from './store.js';

export interface MemoryStoreOptions {
  /** Most live window counters kept (one per subject, route class and window). Default 1,000,000. */
  maxKeys?: number;
  /** Most attempt entries kept (failures and marks). Default 100,000. */
  maxAttemptKeys?: number;
}

/** The requests of one key in one window (a window length and its epoch-aligned index). */
interface Counter {
  readonly key: string;
  readonly windowMs: number;
  readonly index: number;
  /** Epoch ms at which the window ends: (index + 1) × windowMs. */
  readonly expiresAtMs: number;
  count: number;
  /** False once swept or evicted: a hit holding it in hand counts afresh. */
  live: boolean;
}

export class MemoryStore implements CounterStore {
  readonly kind = 'memory';
  readonly #maxKeys: number;
  readonly #maxAttemptKeys: number;
  readonly #totals = new Map<string, { total: number; expiresAtMs: number }>();
  #nextTotalSweepMs = 0;
  /** Re-inserted on each write, so Map order is least recently written first. */
  readonly #attempts = new Map<string, AttemptState & { expiresMs: number }>();
  /** The live counters of each key. */
  readonly #byKey = new Map<string, Counter[]>();
  #size = 0;
  /** Counters grouped by the epoch ms at which their window ends. */
  readonly #byExpiry = new Map<number, Set<Counter>>();
  #nextExpiryMs = Number.POSITIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 1_000_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('MemoryStore: maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
    const maxAttemptKeys = options.maxAttemptKeys ?? 100_000;
    if (!Number.isInteger(maxAttemptKeys) || maxAttemptKeys < 1) throw new TypeError('MemoryStore: maxAttemptKeys must be a positive integer');
    this.#maxAttemptKeys = maxAttemptKeys;
  }

  /** Live counters (for metrics and tests). */
  get size(): number {
    return this.#size;
  }

  hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision> {
    return Promise.resolve(this.hitNow(key, windows, nowMs));
  }

  /** hit, answered synchronously: the limiter calls this when it can, saving the promise round. */
  hitNow(key: string, windows: readonly Window[], nowMs: number): Decision {
    if (nowMs >= this.#nextExpiryMs) this.#sweep(nowMs);
    const counters = this.#byKey.get(key);
    const n = windows.length;
    const found: Array<Counter | undefined> = [];
    const before: number[] = [];
    for (let i = 0; i < n; i++) {
      const windowMs = windows[i]!.windowMs;
      const counter = counters === undefined ? undefined : findCounter(counters, windowMs, Math.floor(nowMs / windowMs));
      found.push(counter);
      before.push(counter === undefined ? 0 : counter.count);
    }
    const decision = decisionFromCounts(windows, before, nowMs);
    if (decision.allowed) {
      for (let i = 0; i < n; i++) {
        const counter = found[i];
        if (counter !== undefined && counter.live) counter.count += 1;
        else this.#insert(key, windows[i]!.windowMs, before[i]! + 1, nowMs);
      }
    }
    return decision;
  }

  #insert(key: string, windowMs: number, count: number, nowMs: number): void {
    if (this.#size >= this.#maxKeys) this.#sweep(nowMs);
    while (this.#size >= this.#maxKeys) this.#evictSoonest();
    const index = Math.floor(nowMs / windowMs);
    const counter: Counter = { key, windowMs, index, expiresAtMs: (index + 1) * windowMs, count, live: true };
    // Looked up again: an eviction above may have dropped this key's last counter.
    const counters = this.#byKey.get(key);
    if (counters === undefined) this.#byKey.set(key, [counter]);
    else counters.push(counter);
    this.#size += 1;
    let group = this.#byExpiry.get(counter.expiresAtMs);
    if (!group) {
      group = new Set();
      this.#byExpiry.set(counter.expiresAtMs, group);
      if (counter.expiresAtMs < this.#nextExpiryMs) this.#nextExpiryMs = counter.expiresAtMs;
    }
    group.add(counter);
  }

  /** Takes a counter out of its key's list (not out of its expiry group: the caller does that). */
  #remove(counter: Counter): void {
    counter.live = false;
    this.#size -= 1;
    const counters = this.#byKey.get(counter.key);
    if (counters === undefined) return;
    const at = counters.indexOf(counter);
    if (at >= 0) counters.splice(at, 1);
    if (counters.length === 0) this.#byKey.delete(counter.key);
  }

  #sweep(nowMs: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [expiresAtMs, group] of this.#byExpiry) {
      if (expiresAtMs <= nowMs) {
        for (const counter of group) this.#remove(counter);
        this.#byExpiry.delete(expiresAtMs);
      } else if (expiresAtMs < next) {
        next = expiresAtMs;
      }
    }
    this.#nextExpiryMs = next;
  }

  #evictSoonest(): void {
    const group = this.#byExpiry.get(this.#nextExpiryMs);
    const victim = group?.values().next();
    if (!group || !victim || victim.done) {
      // Bookkeeping out of step would be our bug; recompute rather than loop forever.
      this.#sweep(Number.NEGATIVE_INFINITY);
      if (this.#byExpiry.size === 0) {
        for (const counters of this.#byKey.values()) for (const counter of counters) counter.live = false;
        this.#byKey.clear();
        this.#size = 0;
      }
      return;
    }
    group.delete(victim.value);
    this.#remove(victim.value);
    if (group.size === 0) {
      this.#byExpiry.delete(this.#nextExpiryMs);
      this.#sweep(Number.NEGATIVE_INFINITY);
    }
  }

  // async only for the interface (errors become rejections); no await inside, so read-add-write is atomic.
  async add(key: string, amount: number, keepUntilMs: number, nowMs: number): Promise<number> {
    checkTotal(key, amount);
    this.#sweepTotals(nowMs);
    const stored = this.#totals.get(key);
    const entry = stored && stored.expiresAtMs > nowMs ? stored : undefined;
    const expiresAtMs = Math.max(entry?.expiresAtMs ?? 0, keepUntilMs + TOTAL_GRACE_MS);
    const total = (entry?.total ?? 0) + amount;
    this.#totals.set(key, { total, expiresAtMs });
    return total;
  }

  async total(key: string, nowMs: number): Promise<number> {
    checkTotal(key, 0);
    const entry = this.#totals.get(key);
    return entry && entry.expiresAtMs > nowMs ? entry.total : 0;
  }

  // O(n) but at most once a minute; totals are few (one per subject and period).
  #sweepTotals(nowMs: number): void {
    if (nowMs < this.#nextTotalSweepMs) return;
    this.#nextTotalSweepMs = nowMs + 60_000;
    for (const [key, entry] of this.#totals) if (entry.expiresAtMs <= nowMs) this.#totals.delete(key);
  }

  async recordFailure(key: string, nowMs: number, ttlMs: number): Promise<AttemptState> {
    const existing = this.#attempts.get(key);
    const failures = existing && existing.expiresMs > nowMs ? existing.failures + 1 : 1;
    this.#putAttempt(key, { failures, lastFailureMs: nowMs, expiresMs: nowMs + ttlMs });
    return { failures, lastFailureMs: nowMs };
  }

  async failures(key: string, nowMs: number): Promise<AttemptState | null> {
    const e = this.#attempts.get(key);
    if (!e || e.expiresMs <= nowMs) return null;
    return { failures: e.failures, lastFailureMs: e.lastFailureMs };
  }

  async reset(key: string): Promise<void> {
    this.#attempts.delete(key);
  }

  async mark(key: string, nowMs: number, ttlMs: number): Promise<void> {
    this.#putAttempt(key, { failures: 0, lastFailureMs: nowMs, expiresMs: nowMs + ttlMs });
  }

  async isMarked(key: string, nowMs: number): Promise<boolean> {
    const e = this.#attempts.get(key);
    return e !== undefined && e.expiresMs > nowMs;
  }

  #putAttempt(key: string, entry: AttemptState & { expiresMs: number }): void {
    this.#attempts.delete(key);
    if (this.#attempts.size >= this.#maxAttemptKeys) {
      const oldest = this.#attempts.keys().next().value;
      if (oldest !== undefined) this.#attempts.delete(oldest);
    }
    this.#attempts.set(key, entry);
  }
}

/** The key's counter of this window length and index (a clock stepping back finds an older index apart). */
function findCounter(counters: readonly Counter[], windowMs: number, index: number): Counter | undefined {
  for (let i = 0; i < counters.length; i++) {
    const counter = counters[i]!;
    if (counter.windowMs === windowMs && counter.index === index) return counter;
  }
  return undefined;
}

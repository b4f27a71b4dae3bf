// In-process counters for a single instance (no Redis configured). Several instances each
// count on their own, so a deployment with more than one instance needs the Redis store.
//
// Memory is bounded two ways:
// - expiry: a counter lives until its window ends. Window ends are aligned to the epoch, so all
//   live counters share only a handful of distinct end times; counters are grouped by end time
//   and a whole group is dropped as soon as a hit arrives at or after it (lazy sweep, no timer,
//   O(expired) work). With no traffic nothing is swept, and nothing grows either.
// - a hard cap on live counters (default 1e6, about 150 MB worst case). At the cap, the counters
//   closest to their end are evicted first: they carry the least remaining state, so the most a
//   flood of fresh subjects can achieve is resetting a few nearly-finished windows early, rather
//   than the store refusing everyone (which a fail-closed class would turn into an outage).
import type { Window } from './policy.js';
import { decisionFromCounts, windowIndex, windowResetMs, type Decision, type LimiterStore } from './store.js';

export interface MemoryStoreOptions {
  /** Most live counters kept (one per subject, route class and window). Default 1,000,000. */
  maxKeys?: number;
}

export class MemoryStore implements LimiterStore {
  readonly #maxKeys: number;
  readonly #counts = new Map<string, number>();
  /** Counter keys grouped by the epoch ms at which their window ends. */
  readonly #byExpiry = new Map<number, Set<string>>();
  #nextExpiryMs = Number.POSITIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 1_000_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('MemoryStore: maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
  }

  /** Live counters (for metrics and tests). */
  get size(): number {
    return this.#counts.size;
  }

  // Synchronous from read to write: nothing else runs on this event loop in between, which is
  // what makes the check-then-increment atomic. The Promise is only for the interface.
  hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision> {
    if (nowMs >= this.#nextExpiryMs) this.#sweep(nowMs);
    const keys = windows.map((w) => `${key}|${w.windowMs}|${windowIndex(nowMs, w.windowMs)}`);
    const before = keys.map((k) => this.#counts.get(k) ?? 0);
    const decision = decisionFromCounts(windows, before, nowMs);
    if (decision.allowed) {
      keys.forEach((k, i) => {
        const count = before[i] ?? 0;
        if (count === 0) this.#insert(k, windowResetMs(nowMs, windows[i]!.windowMs), nowMs);
        this.#counts.set(k, count + 1);
      });
    }
    return Promise.resolve(decision);
  }

  #insert(counterKey: string, expiresAtMs: number, nowMs: number): void {
    if (this.#counts.size >= this.#maxKeys) this.#sweep(nowMs);
    while (this.#counts.size >= this.#maxKeys) this.#evictSoonest();
    let group = this.#byExpiry.get(expiresAtMs);
    if (!group) {
      group = new Set();
      this.#byExpiry.set(expiresAtMs, group);
      if (expiresAtMs < this.#nextExpiryMs) this.#nextExpiryMs = expiresAtMs;
    }
    group.add(counterKey);
  }

  #sweep(nowMs: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [expiresAtMs, group] of this.#byExpiry) {
      if (expiresAtMs <= nowMs) {
        for (const k of group) this.#counts.delete(k);
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
      if (this.#byExpiry.size === 0) this.#counts.clear();
      return;
    }
    group.delete(victim.value);
    this.#counts.delete(victim.value);
    if (group.size === 0) {
      this.#byExpiry.delete(this.#nextExpiryMs);
      this.#sweep(Number.NEGATIVE_INFINITY);
    }
  }
}

/**
 * Counters of failed attempts, behind the smallest interface a shared store
 * (Redis: INCR + PEXPIRE in one MULTI) can implement, so that the rate-limit
 * work can back it with Redis without touching the sign-in code.
 */
export interface AttemptStore {
  /** Adds one failure; the entry is forgotten `ttlMs` after its last failure. */
  recordFailure(key: string, nowMs: number, ttlMs: number): Promise<AttemptState>;
  get(key: string, nowMs: number): Promise<AttemptState | null>;
  reset(key: string): Promise<void>;
  /** Sets a flag (e.g. "this address signed into this account") that lasts `ttlMs` from now. */
  mark(key: string, nowMs: number, ttlMs: number): Promise<void>;
  isMarked(key: string, nowMs: number): Promise<boolean>;
}

export interface AttemptState {
  failures: number;
  lastFailureMs: number;
}

/** One process; bounded so that a spray of keys cannot grow it without limit. */
export function createMemoryAttemptStore(maxEntries = 100_000): AttemptStore {
  const entries = new Map<string, AttemptState & { expiresMs: number }>();
  // Re-inserted on each write, so Map order is least recently written first: that one goes when full.
  function put(key: string, entry: AttemptState & { expiresMs: number }): void {
    entries.delete(key);
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(key, entry);
  }
  return {
    async recordFailure(key, nowMs, ttlMs) {
      const existing = entries.get(key);
      const failures = existing && existing.expiresMs > nowMs ? existing.failures + 1 : 1;
      put(key, { failures, lastFailureMs: nowMs, expiresMs: nowMs + ttlMs });
      return { failures, lastFailureMs: nowMs };
    },
    async get(key, nowMs) {
      const e = entries.get(key);
      if (!e || e.expiresMs <= nowMs) return null;
      return { failures: e.failures, lastFailureMs: e.lastFailureMs };
    },
    async reset(key) {
      entries.delete(key);
    },
    async mark(key, nowMs, ttlMs) {
      put(key, { failures: 0, lastFailureMs: nowMs, expiresMs: nowMs + ttlMs });
    },
    async isMarked(key, nowMs) {
      const e = entries.get(key);
      return e !== undefined && e.expiresMs > nowMs;
    },
  };
}

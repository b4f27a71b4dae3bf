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
}

export interface AttemptState {
  failures: number;
  lastFailureMs: number;
}

/** One process; bounded so that a spray of keys cannot grow it without limit. */
export function createMemoryAttemptStore(maxEntries = 100_000): AttemptStore {
  const entries = new Map<string, AttemptState & { expiresMs: number }>();
  return {
    async recordFailure(key, nowMs, ttlMs) {
      const existing = entries.get(key);
      const failures = existing && existing.expiresMs > nowMs ? existing.failures + 1 : 1;
      entries.delete(key); // re-insert: Map order becomes least-recently-failed first
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      const state = { failures, lastFailureMs: nowMs, expiresMs: nowMs + ttlMs };
      entries.set(key, state);
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
  };
}

// The seam between the policy and a counter engine (memory, Redis, …).
//
// A store makes ONE atomic hit per request: it checks every window and, only when all of them
// have room, counts the request in all of them. Being over the limit is a returned Decision; an
// unreachable store is a thrown LimiterUnavailableError, which the policy's failMode turns into
// "let it through" or 503. (Shape after animir/node-rate-limiter-flexible
// lib/RateLimiterStoreAbstract.js, which separates the same two outcomes.)
//
// Windows are fixed and aligned to the epoch: window index = floor(nowMs / windowMs). Every
// instance computes the same index for the same instant, so a shared store counts exactly, and a
// subject is freed exactly at the boundary. The trade-off is a possible burst of 2×limit across a
// boundary, accepted for exactness and one cheap key per window.
import type { Window } from './policy.js';

export interface WindowState {
  limit: number;
  windowMs: number;
  /** Requests still allowed in this window after this decision (0 when exhausted). */
  remaining: number;
  /** Absolute epoch ms at which this window ends and its count starts again from 0. */
  resetMs: number;
}

export interface Decision {
  allowed: boolean;
  /** One entry per window, in the policy's order. */
  windows: WindowState[];
  /** 0 when allowed; else ms until every window that refused has reset. */
  retryAfterMs: number;
}

export interface LimiterStore {
  /**
   * Atomically: for every window, read the count of `key` in the current window; if all are below
   * their limit, increment all and allow; else change nothing and deny. A denied request does not
   * consume, so a client hammering a closed window does not extend its own lock-out.
   */
  hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision>;
}

/** The store could not answer (network, timeout, server down). Never thrown for "over the limit". */
export class LimiterUnavailableError extends Error {
  readonly code = 'limiter_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LimiterUnavailableError';
  }
}

export function windowIndex(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}

export function windowResetMs(nowMs: number, windowMs: number): number {
  return (windowIndex(nowMs, windowMs) + 1) * windowMs;
}

/**
 * The Decision for counts read before this request (`before[i]` for `windows[i]`). Shared by the
 * stores so that they cannot disagree on the arithmetic.
 */
export function decisionFromCounts(windows: readonly Window[], before: readonly number[], nowMs: number): Decision {
  const allowed = windows.every((w, i) => (before[i] ?? 0) < w.limit);
  let retryAfterMs = 0;
  const states = windows.map((w, i): WindowState => {
    const count = (before[i] ?? 0) + (allowed ? 1 : 0);
    const resetMs = windowResetMs(nowMs, w.windowMs);
    if (!allowed && (before[i] ?? 0) >= w.limit) retryAfterMs = Math.max(retryAfterMs, resetMs - nowMs);
    return { limit: w.limit, windowMs: w.windowMs, remaining: Math.max(0, w.limit - count), resetMs };
  });
  return { allowed, windows: states, retryAfterMs };
}

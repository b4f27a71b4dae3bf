// The seam between the policy and a counter engine (memory, Redis, …).
//
// A store makes ONE atomic hit per request: it checks every window and, only when all of them
// have room, counts the request in all of them. Being over the limit is a returned Decision; an
// unreachable store is a thrown ServiceUnavailableError, which the policy's failMode turns into
// "let it through" or 503. (Shape after animir/node-rate-limiter-flexible
// lib/RateLimiterStoreAbstract.js, which separates the same two outcomes.)
//
// Windows are fixed and aligned to the epoch: window index = floor(nowMs / windowMs). Every
// instance computes the same index for the same instant, so a shared store counts exactly, and a
// subject is freed exactly at the boundary. The trade-off is a possible burst of 2×limit across a
// boundary, accepted for exactness and one cheap key per window.
import { ServiceUnavailableError } from '../errors/index.js';
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

/** Failed attempts under one key (sign-in backoff). */
export interface AttemptState {
  failures: number;
  lastFailureMs: number;
}

/**
 * The one counter store: every counter Gatehouse keeps (request windows, quota totals, failed
 * attempts) lives in one engine, memory for a single instance or Redis shared by every instance,
 * behind this interface. Each method is one atomic step (one Lua script or one command on Redis,
 * synchronous from read to write in memory). Callers pass `nowMs` from the injected clock, so
 * tests freeze time and every instance agrees on epoch-aligned windows.
 *
 * Errors: being over a limit is a returned value; an unreachable store is a thrown
 * ServiceUnavailableError('redis') (see counterStoreUnavailable), which each caller turns into its
 * fail mode. No store throws anything HTTP-specific: the caller decides what the client hears.
 */
export interface CounterStore {
  readonly kind: 'memory' | 'redis';

  /**
   * Atomically: for every window, read the count of `key` in the current window; if all are below
   * their limit, increment all and allow; else change nothing and deny. A denied request does not
   * consume, so a client hammering a closed window does not extend its own lock-out.
   */
  hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision>;

  /**
   * Atomically adds `amount` (a non-negative safe integer) to the total under `key` and returns
   * the new total; the total is kept at least until `keepUntilMs` plus a grace (an instance whose
   * clock lags still adds to the right total). `amount` 0 reads without changing.
   */
  add(key: string, amount: number, keepUntilMs: number, nowMs: number): Promise<number>;
  /** The current total (0 when unknown or expired). */
  total(key: string, nowMs: number): Promise<number>;

  /** Adds one failure; the entry is forgotten `ttlMs` after its last failure. */
  recordFailure(key: string, nowMs: number, ttlMs: number): Promise<AttemptState>;
  failures(key: string, nowMs: number): Promise<AttemptState | null>;
  /** Forgets a key's failures or mark. */
  reset(key: string): Promise<void>;
  /** Sets a flag (e.g. "this address signed into this account") that lasts `ttlMs` from now. */
  mark(key: string, nowMs: number, ttlMs: number): Promise<void>;
  isMarked(key: string, nowMs: number): Promise<boolean>;
}

/**
 * What the limiter uses. `hitNow`, when the store has it (memory), is `hit` answered
 * synchronously: the request pipeline then decides without a promise round.
 */
export type LimiterStore = Pick<CounterStore, 'hit'> & { hitNow?(key: string, windows: readonly Window[], nowMs: number): Decision };
/** What quotas use. */
export type QuotaCounter = Pick<CounterStore, 'add' | 'total'>;
/** What the sign-in backoff uses. */
export type AttemptStore = Pick<CounterStore, 'recordFailure' | 'failures' | 'reset' | 'mark' | 'isMarked'>;

/**
 * The store could not answer (network, timeout, server down). Never thrown for "over the limit".
 * `reason` stays in the cause (logs), not in what a client reads.
 */
export function counterStoreUnavailable(reason: string, cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('redis', {
    message: 'A backing service is temporarily unavailable; retry shortly.',
    retryAfterS: 1,
    cause: new Error(reason, { cause }),
  });
}

/** Totals outlive their period by this much: an instance whose clock lags still adds to the right total. */
export const TOTAL_GRACE_MS = 60 * 60_000;

export function checkTotal(key: string, amount: number): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw new TypeError('counter store: key must be 1..512 characters');
  if (!Number.isSafeInteger(amount) || amount < 0) throw new TypeError('counter store: amount must be a non-negative safe integer');
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
  // Plain loops: this runs on every request, and closures and callbacks would be allocated each time.
  const n = windows.length;
  let allowed = true;
  for (let i = 0; i < n; i++) if ((before[i] ?? 0) >= windows[i]!.limit) allowed = false;
  let retryAfterMs = 0;
  const states: WindowState[] = [];
  for (let i = 0; i < n; i++) {
    const w = windows[i]!;
    const counted = before[i] ?? 0;
    const count = counted + (allowed ? 1 : 0);
    const resetMs = windowResetMs(nowMs, w.windowMs);
    if (!allowed && counted >= w.limit) retryAfterMs = Math.max(retryAfterMs, resetMs - nowMs);
    states.push({ limit: w.limit, windowMs: w.windowMs, remaining: Math.max(0, w.limit - count), resetMs });
  }
  return { allowed, windows: states, retryAfterMs };
}

// The one clock. Every timestamp, expiry, window and cache age reads it, so a test can freeze or
// advance time for the whole app at once instead of sleeping, and no part of the app runs on a
// different notion of "now" than another.
//
// Wall-clock time, not a monotonic one: windows and quota periods are epoch-aligned and shared
// across instances, so they need the wall clock anyway. A cache entry therefore ends early, not
// late, when the clock steps back (see ttl-cache.ts). Measuring a duration for a log line or a
// metric (how long start-up took) is not "now" and may use performance.now.
export interface Clock {
  /** As a Date, for what is stored or sent (timestamps). */
  now(): Date;
  /** The same instant in epoch ms, for expiry and windows: allocates nothing on the request path. */
  nowMs(): number;
}

export const systemClock: Clock = { now: () => new Date(), nowMs: () => Date.now() };

/** A clock reading `nowMs` (tests: a frozen or shifted time). */
export function clockAt(nowMs: () => number): Clock {
  return { now: () => new Date(nowMs()), nowMs };
}

export function isoNow(clock: Clock): string {
  return clock.now().toISOString();
}

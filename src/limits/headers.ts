// Response headers for a rate-limit Decision (docs/api.md "Rate limits").
//
// Two families; one is sent by default (`limits.rateLimitHeaders`, docs/api.md "Rate limits"):
// - `legacy` (the default: what existing clients and SDKs read): the de-facto X-RateLimit-Limit /
//   -Remaining / -Reset (Reset as absolute Unix seconds, as GitHub does), describing the most
//   restrictive window;
// - `draft`: the IETF fields of draft-ietf-httpapi-ratelimit-headers (-08 and later, structured fields per
//   RFC 9651): `RateLimit-Policy` lists every quota policy as `"<name>";q=<quota>;w=<window s>`
//   and `RateLimit` reports the one currently closest to exhaustion as
//   `"<name>";r=<remaining>;t=<seconds until reset>`.
//   https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
// `both` sends the two (about 200 bytes more on every response).
// On a denial, Retry-After (RFC 9110 §10.2.3) in whole seconds, rounded up: rounding down would
// invite a retry just before the window opens, and 0 would mean "retry now".
import type { Decision, WindowState } from './store.js';

/** The policy name of one window, as it appears in RateLimit-Policy and RateLimit: `<class>-<seconds>s` (`address-60s` for the per-IP pre-check). */
export function policyName(routeClass: string, windowMs: number): string {
  return `${routeClass}-${Math.round(windowMs / 1000)}s`;
}

/**
 * The window to report. Allowed: the one with the fewest requests left, on a tie the one that
 * resets soonest. Denied: of the windows that refused, the one that resets LAST, so that
 * X-RateLimit-Reset and RateLimit `t` agree with Retry-After (a client that waited only for the
 * earlier reset would be refused again).
 */
export function mostRestrictiveWindow(decision: Decision): WindowState {
  const windows = decision.windows;
  let best = windows[0];
  if (!best) throw new TypeError('mostRestrictiveWindow: a decision has at least one window');
  // An index loop: a rest spread would copy the windows on every request.
  for (let i = 1; i < windows.length; i++) {
    const w = windows[i]!;
    const tieWins = decision.allowed ? w.resetMs < best.resetMs : w.resetMs > best.resetMs;
    if (w.remaining < best.remaining || (w.remaining === best.remaining && tieWins)) best = w;
  }
  return best;
}

/** Whole seconds a denied client must wait: rounded up, never 0. */
export function retryAfterSeconds(decision: Decision): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

/** Which rate-limit header families a response carries. */
export type RateLimitHeaderFamily = 'legacy' | 'draft' | 'both';
export const RATE_LIMIT_HEADER_FAMILIES = ['legacy', 'draft', 'both'] as const;

export function rateLimitHeaders(routeClass: string, decision: Decision, nowMs: number, family: RateLimitHeaderFamily = 'legacy'): Record<string, string> {
  const shown = mostRestrictiveWindow(decision);
  // The default family as one literal (one object shape for every response), the rest added.
  const headers: Record<string, string> = family === 'draft' ? {} : {
    'X-RateLimit-Limit': String(shown.limit),
    'X-RateLimit-Remaining': String(shown.remaining),
    'X-RateLimit-Reset': String(Math.ceil(shown.resetMs / 1000)),
  };
  if (family !== 'legacy') {
    const secondsToReset = Math.max(0, Math.ceil((shown.resetMs - nowMs) / 1000));
    headers['RateLimit-Policy'] = decision.windows
      .map((w) => `"${policyName(routeClass, w.windowMs)}";q=${w.limit};w=${Math.round(w.windowMs / 1000)}`)
      .join(', ');
    headers.RateLimit = `"${policyName(routeClass, shown.windowMs)}";r=${shown.remaining};t=${secondsToReset}`;
  }
  if (!decision.allowed) headers['Retry-After'] = String(retryAfterSeconds(decision));
  return headers;
}

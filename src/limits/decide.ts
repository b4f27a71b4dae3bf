// The limiter the request pipeline calls: policy lookup, one store hit, headers, and the
// route class's failMode when the store is down.
import { rateLimitHeaders, retryAfterSeconds } from './headers.js';
import { resolvePolicy, type FailMode, type LimitsConfig, type RouteClass, type Tier } from './policy.js';
import { LimiterUnavailableError, type Decision, type LimiterStore } from './store.js';
import type { Subject } from './subject.js';

export interface LimiterOptions {
  store: LimiterStore;
  /**
   * Read on every check, so the admin API can change limits and overrides without a restart.
   * Must return an already validated config (validateLimitsConfig); it is not re-checked per request.
   */
  config: () => LimitsConfig;
  /**
   * Called on every check the store could not answer, with the mode applied. Required, because a
   * fail-open limiter that nobody counts is an unlimited API nobody knows about: wire it to a
   * metric and a log line.
   */
  onStoreError: (routeClass: RouteClass, mode: FailMode, error: LimiterUnavailableError) => void;
}

export interface LimitRequest {
  routeClass: RouteClass;
  tier: Tier;
  subject: Subject;
  nowMs: number;
}

export interface LimitResult {
  allowed: boolean;
  /** Set on every response of the route (empty when the store was down). */
  headers: Record<string, string>;
  /** Present when denied by a limit: for the 429 body's `retry_after`. */
  retryAfterS?: number;
  /** The store was down and the class fails closed: answer 503 `service_unavailable`. */
  unavailable?: true;
}

export interface Limiter {
  check(request: LimitRequest): Promise<LimitResult>;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { store, config, onStoreError } = options;
  if (typeof config !== 'function') throw new TypeError('createLimiter: config must be a function returning the current LimitsConfig');

  return {
    async check({ routeClass, tier, subject, nowMs }: LimitRequest): Promise<LimitResult> {
      const policy = resolvePolicy(config(), { routeClass, tier, subject: subject.id });
      let decision: Decision;
      try {
        // One counter set per subject and route class: using up the LLM budget leaves data reads alone.
        decision = await store.hit(`${subject.key}:${routeClass}`, policy.windows, nowMs);
      } catch (error) {
        // Only an outage is subject to failMode; anything else is a bug and must surface.
        if (!(error instanceof LimiterUnavailableError)) throw error;
        onStoreError(routeClass, policy.failMode, error);
        return policy.failMode === 'open' ? { allowed: true, headers: {} } : { allowed: false, headers: {}, unavailable: true };
      }
      const headers = rateLimitHeaders(routeClass, decision, nowMs);
      return decision.allowed ? { allowed: true, headers } : { allowed: false, headers, retryAfterS: retryAfterSeconds(decision) };
    },
  };
}

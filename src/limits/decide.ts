// The limiter the request pipeline calls: policy lookup, one store hit, headers, and the
// route class's failMode when the store is down.
import { rateLimitHeaders, retryAfterSeconds, type RateLimitHeaderFamily } from './headers.js';
import {
  resolveAddressPolicy, resolvePolicy, type FailMode, type LimitsConfig, type RouteClass, type RoutePolicy, type Tier,
} from './policy.js';
import { isServiceUnavailable, type ServiceUnavailableError } from '../errors/index.js';
import type { Decision, LimiterStore } from './store.js';
import { normaliseIp, type Subject } from './subject.js';

/** The pseudo route class of the per-address pre-check, in metrics, headers and onStoreError. */
export const ADDRESS_CLASS = 'address';

export interface LimiterOptions {
  store: LimiterStore;
  /**
   * Read on every check that does not bring its own config, so the admin API can change limits
   * and overrides without a restart. Must return an already validated config
   * (validateLimitsConfig); it is not re-checked per request.
   */
  config: () => LimitsConfig;
  /**
   * Called on every check the store could not answer, with the mode applied. Required, because a
   * fail-open limiter that nobody counts is an unlimited API nobody knows about: wire it to a
   * metric and a log line.
   */
  onStoreError: (routeClass: RouteClass | typeof ADDRESS_CLASS, mode: FailMode, error: ServiceUnavailableError) => void;
  /** Which rate-limit header families responses carry; default `legacy` (X-RateLimit-*). */
  headers?: RateLimitHeaderFamily;
}

export interface LimitRequest {
  routeClass: RouteClass;
  tier: Tier;
  subject: Subject;
  nowMs: number;
  /** The project environment's effective config (validated); default: options.config(). */
  config?: LimitsConfig;
  /** Ids whose overrides apply, first match wins; default [subject.id] (see resolvePolicy). */
  overrideIds?: readonly string[];
}

export interface AddressRequest {
  /** The client IP as Fastify resolved it (socket, or a trusted proxy's X-Forwarded-For). */
  ip: string;
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
  /** Set by checkCaller on a refusal: the id of the counter that refused (`ip:…`, `key:…`, `user:…`, `account:…`). */
  subject?: string;
  /** Set by checkCaller: the tier the caller was counted at (metrics). */
  tier?: Tier;
}

export interface Limiter {
  check(request: LimitRequest): Promise<LimitResult>;
  /** The global per-IP pre-check (no project yet); policy from options.config().address. */
  checkAddress(request: AddressRequest): Promise<LimitResult>;
}

/**
 * An allowed request's result: its headers are built on first read. The
 * per-address pre-check is allowed on nearly every request, and its headers
 * are only shown when no subject check replaces them (limits/stages.ts).
 */
class Allowed implements LimitResult {
  readonly allowed = true;
  /** Set by checkCaller; declared so that setting it keeps the object's shape. */
  tier: Tier | undefined = undefined;
  #headers: Record<string, string> | null = null;
  constructor(private readonly name: string, private readonly decision: Decision, private readonly nowMs: number, private readonly family: RateLimitHeaderFamily) {}
  get headers(): Record<string, string> {
    return (this.#headers ??= rateLimitHeaders(this.name, this.decision, this.nowMs, this.family));
  }
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { store, config, onStoreError } = options;
  const family = options.headers ?? 'legacy';
  if (typeof config !== 'function') throw new TypeError('createLimiter: config must be a function returning the current LimitsConfig');

  async function decide(counterKey: string, name: RouteClass | typeof ADDRESS_CLASS, policy: RoutePolicy, nowMs: number): Promise<LimitResult> {
    let decision: Decision;
    try {
      decision = await store.hit(counterKey, policy.windows, nowMs);
    } catch (error) {
      // Only an outage is subject to failMode; anything else is a bug and must surface.
      if (!isServiceUnavailable(error)) throw error;
      onStoreError(name, policy.failMode, error);
      return policy.failMode === 'open' ? { allowed: true, headers: {} } : { allowed: false, headers: {}, unavailable: true };
    }
    if (decision.allowed) return new Allowed(name, decision, nowMs, family);
    return { allowed: false, headers: rateLimitHeaders(name, decision, nowMs, family), retryAfterS: retryAfterSeconds(decision) };
  }

  return {
    check({ routeClass, tier, subject, nowMs, config: given, overrideIds }: LimitRequest): Promise<LimitResult> {
      const policy = resolvePolicy(given ?? config(), { routeClass, tier, subject: subject.id, overrideIds });
      // One counter set per subject and route class: using up the LLM budget leaves data reads alone.
      return decide(`${subject.key}:${routeClass}`, routeClass, policy, nowMs);
    },
    checkAddress({ ip, nowMs }: AddressRequest): Promise<LimitResult> {
      // `_` cannot be a project id (base32) or an environment, so no project's counter can collide.
      return decide(`_:_:ip:${encodeURIComponent(normaliseIp(ip))}:${ADDRESS_CLASS}`, ADDRESS_CLASS, resolveAddressPolicy(config()), nowMs);
    },
  };
}

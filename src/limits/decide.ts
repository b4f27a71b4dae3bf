// The limiter the request pipeline calls: policy lookup, one store hit, headers, and the
// route class's failMode when the store is down.
import { rateLimitHeaders, retryAfterSeconds, type RateLimitHeaderFamily } from './headers.js';
import { createKeyMemo } from '../shared/key-memo.js';
import {
  addressPolicyOf, policyOf, type FailMode, type LimitsConfig, type RouteClass, type RoutePolicy, type Tier,
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

/** A limiter's answer: at once when its store counts in process (memory), else a promise (Redis). */
export type LimitAnswer = LimitResult | Promise<LimitResult>;

/** True when an answer has still to arrive (a thenable: a LimitResult never has `then`). */
export function isPending(answer: LimitAnswer): answer is Promise<LimitResult> {
  return typeof (answer as { then?: unknown }).then === 'function';
}

export interface Limiter {
  check(request: LimitRequest): Promise<LimitResult>;
  /** The global per-IP pre-check (no project yet); policy from options.config().address. */
  checkAddress(request: AddressRequest): Promise<LimitResult>;
  /** checkAddress for the request path: answered at once on the memory store. */
  checkAddressNow(request: AddressRequest): LimitAnswer;
  /**
   * One counter, its key already built (`<subject key>:<route class>`, see check) and its policy
   * resolved (policyOf): what the request path calls, with keys it keeps per caller.
   */
  checkKeyed(counterKey: string, routeClass: RouteClass, policy: RoutePolicy, nowMs: number): LimitAnswer;
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

/** Addresses whose counter key was built lately; bounded, so a spray of addresses only churns it. */
const ADDRESS_KEYS_KEPT = 10_000;

export function createLimiter(options: LimiterOptions): Limiter {
  const { store, config, onStoreError } = options;
  const family = options.headers ?? 'legacy';
  if (typeof config !== 'function') throw new TypeError('createLimiter: config must be a function returning the current LimitsConfig');
  const hitNow = store.hitNow?.bind(store);
  const addressKeys = createKeyMemo<string>(ADDRESS_KEYS_KEPT);

  function answer(name: RouteClass | typeof ADDRESS_CLASS, decision: Decision, nowMs: number): LimitResult {
    if (decision.allowed) return new Allowed(name, decision, nowMs, family);
    return { allowed: false, headers: rateLimitHeaders(name, decision, nowMs, family), retryAfterS: retryAfterSeconds(decision) };
  }

  function storeFailed(name: RouteClass | typeof ADDRESS_CLASS, policy: RoutePolicy, error: unknown): LimitResult {
    // Only an outage is subject to failMode; anything else is a bug and must surface.
    if (!isServiceUnavailable(error)) throw error;
    onStoreError(name, policy.failMode, error);
    return policy.failMode === 'open' ? { allowed: true, headers: {} } : { allowed: false, headers: {}, unavailable: true };
  }

  function decide(counterKey: string, name: RouteClass | typeof ADDRESS_CLASS, policy: RoutePolicy, nowMs: number): LimitAnswer {
    if (hitNow === undefined) {
      return store.hit(counterKey, policy.windows, nowMs).then(
        (decision) => answer(name, decision, nowMs),
        (error: unknown) => storeFailed(name, policy, error),
      );
    }
    let decision: Decision;
    try {
      decision = hitNow(counterKey, policy.windows, nowMs);
    } catch (error) {
      return storeFailed(name, policy, error);
    }
    return answer(name, decision, nowMs);
  }

  function checkAddressNow({ ip, nowMs }: AddressRequest): LimitAnswer {
    // `_` cannot be a project id (base32) or an environment, so no project's counter can collide.
    const key = addressKeys.get(ip) ?? addressKeys.set(ip, `_:_:ip:${encodeURIComponent(normaliseIp(ip))}:${ADDRESS_CLASS}`);
    return decide(key, ADDRESS_CLASS, addressPolicyOf(config()), nowMs);
  }

  return {
    // async: whatever the store does, these two answer with a promise (a throw becomes a rejection).
    async check({ routeClass, tier, subject, nowMs, config: given, overrideIds }: LimitRequest): Promise<LimitResult> {
      const policy = policyOf(given ?? config(), routeClass, tier, overrideIds ?? [subject.id]);
      // One counter set per subject and route class: using up the LLM budget leaves data reads alone.
      return decide(`${subject.key}:${routeClass}`, routeClass, policy, nowMs);
    },
    async checkAddress(request: AddressRequest): Promise<LimitResult> {
      return checkAddressNow(request);
    },
    checkAddressNow,
    checkKeyed: decide,
  };
}

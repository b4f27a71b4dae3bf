// What the rest of Gatehouse uses: the limiter over the process's counter store, per-environment
// settings, and quota totals on the same store. Built once (createRateLimits) and handed down
// through deps.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import type { ServiceUnavailableError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { counterKeyOf, createCallerSubjects } from './caller-subjects.js';
import { createLimiter, isPending, type ADDRESS_CLASS, type LimitAnswer, type Limiter, type LimitResult } from './decide.js';
import type { RateLimitHeaderFamily } from './headers.js';
import { policyOf, validateLimitsConfig, type FailMode, type LimitsConfig, type RouteClass, type Tier } from './policy.js';
import { createLimitSettingsStore } from './settings-store.js';
import { createLimitSettings, type LimitSettings } from './settings.js';
import type { CounterStore, QuotaCounter } from './store.js';
import { accountSubject, type Subject } from './subject.js';

export interface CallerLimitInput {
  projectId: string;
  environment: string;
  routeClass: RouteClass;
  tier: Tier;
  /** Server-resolved user id (verified token), if any. */
  userId?: string | undefined;
  keyId: string;
  /**
   * A publishable key ships inside client apps and is shared by all their guests: counting guests
   * by it would let one visitor exhaust everyone's limit. Guests are counted by IP inside the
   * project environment instead, and the key's override (if any) still sets their windows.
   */
  keyIsShared: boolean;
  ip: string;
  /**
   * The account the request names (normalised email of a sign-up or recovery), if the route
   * declares one: counted too, after the caller's own counter has room.
   */
  account?: string | undefined;
  nowMs: number;
}

export interface RateLimits {
  settings: LimitSettings;
  /** Quota totals on the limiter's store (shared across instances with Redis). */
  quotas: QuotaCounter;
  /** `memory` or `redis`. */
  storeKind: 'memory' | 'redis';
  /** The global per-IP pre-check. Answered at once on the memory store, else a promise (await works on both). */
  checkAddress(ip: string, nowMs: number): LimitAnswer;
  /** The per-subject check of a request with a resolved caller. Answered at once when it can, as checkAddress. */
  checkCaller(input: CallerLimitInput): LimitAnswer;
}

export type StoreErrorHandler = (routeClass: RouteClass | typeof ADDRESS_CLASS, mode: FailMode, error: ServiceUnavailableError) => void;

export function createRateLimitsOver(options: {
  store: CounterStore;
  settings: LimitSettings;
  base: LimitsConfig;
  onStoreError: StoreErrorHandler;
  headers?: RateLimitHeaderFamily;
}): RateLimits {
  const { settings, base } = options;
  const limiter: Limiter = createLimiter({ store: options.store, config: () => base, onStoreError: options.onStoreError, headers: options.headers });
  const subjects = createCallerSubjects();

  /** The caller's result as checkCaller reports it: the tier counted at, and on a refusal the counter that refused. */
  function reported(result: LimitResult, subject: Subject, tier: Tier): LimitResult {
    if (!result.allowed) return { ...result, subject: subject.id, tier };
    result.tier = tier;
    return result;
  }

  function checkWith(config: LimitsConfig, input: CallerLimitInput): LimitAnswer {
    const { projectId, environment, routeClass } = input;
    // The `auth` class (sign-up, sign-in, recovery) is blind to the user token: each account an
    // attacker signs up is a fresh valid token, so counting by user would give every sign-up its
    // own budget. Guests count by address, a secret key (which no client can mint) by key, at
    // the key's tier, under the key's override.
    const tokenBlind = routeClass === 'auth';
    const userId = tokenBlind ? undefined : input.userId;
    const tier = tokenBlind ? (input.keyIsShared ? 'guest' : 'admin') : input.tier;
    // Whose overrides apply (the user, else the key), and who is counted: the same, except
    // guests of a publishable key, counted by address under the key's override.
    const caller = userId !== undefined ? subjects.user(projectId, environment, userId) : subjects.key(projectId, environment, input.keyId);
    const counted = userId === undefined && input.keyIsShared ? subjects.address(projectId, environment, input.ip) : caller;
    const policy = policyOf(config, routeClass, tier, caller.overrideIds);
    const answer = limiter.checkKeyed(counterKeyOf(counted, routeClass), routeClass, policy, input.nowMs);
    if (input.account !== undefined) return withAccount(answer, config, input, input.account, counted.subject, tier, caller.overrideIds);
    return isPending(answer) ? answer.then((result) => reported(result, counted.subject, tier)) : reported(answer, counted.subject, tier);
  }

  // The named account is counted only once the caller has room, so a refused caller cannot
  // spend someone else's account budget.
  async function withAccount(
    answer: LimitAnswer, config: LimitsConfig, input: CallerLimitInput, named: string, subject: Subject, tier: Tier, overrideIds: readonly string[],
  ): Promise<LimitResult> {
    const caller = reported(await answer, subject, tier);
    if (!caller.allowed) return caller;
    const account = accountSubject(input.projectId, input.environment, named);
    const result = await limiter.check({ routeClass: input.routeClass, tier, subject: account, nowMs: input.nowMs, config, overrideIds });
    return result.allowed ? caller : { ...result, subject: account.id, tier };
  }

  return {
    settings,
    quotas: options.store,
    storeKind: options.store.kind,
    checkAddress: (ip, nowMs) => limiter.checkAddressNow({ ip, nowMs }),
    checkCaller(input) {
      const config = settings.effectiveNow(input.projectId, input.environment);
      return config instanceof Promise ? config.then((c) => checkWith(c, input)) : checkWith(config, input);
    },
  };
}

/**
 * The limiter over the process's counter store (openCounterStore), the per-environment settings
 * (cached on the injected clock) and the quota totals on the same store.
 */
export function createRateLimits(options: {
  store: CounterStore;
  rateLimits: LimitsConfig;
  db: Kysely<Database>;
  logger: Logger;
  clock: Clock;
  onStoreError: StoreErrorHandler;
  /** ms of settings cache. Default 1000. */
  settingsCacheTtlMs?: number;
  /** Which rate-limit header families responses carry (config `limits.rateLimitHeaders`). */
  headers?: RateLimitHeaderFamily;
}): RateLimits {
  const base = validateLimitsConfig(options.rateLimits);
  const settings = createLimitSettings({
    store: createLimitSettingsStore(options.db),
    base,
    clock: options.clock,
    cacheTtlMs: options.settingsCacheTtlMs,
    onInvalidStored: (projectId, environment, problems) =>
      options.logger.error({ project: projectId, environment, problems }, 'stored rate-limit settings are invalid; the config file policy applies'),
  });
  return createRateLimitsOver({ store: options.store, settings, base, onStoreError: options.onStoreError, headers: options.headers });
}

// What the rest of Gatehouse uses: the limiter over the configured store, per-environment
// settings, and quota counters on the same store. Built once from the config (createRateLimits)
// and handed down through deps.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Database } from '../db/index.js';
import { createOutageLog } from '../shared/outage-log.js';
import { createLimiter, type ADDRESS_CLASS, type Limiter, type LimitResult } from './decide.js';
import { MemoryStore } from './memory-store.js';
import { validateLimitsConfig, type FailMode, type LimitsConfig, type RouteClass, type Tier } from './policy.js';
import { MemoryQuotaCounter, RedisQuotaCounter, type QuotaCounter } from './quota.js';
import { createLimiterRedisClient, RedisStore } from './redis-store.js';
import { createLimitSettingsStore } from './settings-store.js';
import { createLimitSettings, type LimitSettings } from './settings.js';
import type { LimiterStore, LimiterUnavailableError } from './store.js';
import { accountSubject, resolveSubject } from './subject.js';

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
  /** The global per-IP pre-check. */
  checkAddress(ip: string, nowMs: number): Promise<LimitResult>;
  /** The per-subject check of a request with a resolved caller. */
  checkCaller(input: CallerLimitInput): Promise<LimitResult>;
}

export type StoreErrorHandler = (routeClass: RouteClass | typeof ADDRESS_CLASS, mode: FailMode, error: LimiterUnavailableError) => void;

export function createRateLimitsOver(options: {
  store: LimiterStore;
  storeKind: 'memory' | 'redis';
  quotas: QuotaCounter;
  settings: LimitSettings;
  base: LimitsConfig;
  onStoreError: StoreErrorHandler;
}): RateLimits {
  const { settings, base } = options;
  const limiter: Limiter = createLimiter({ store: options.store, config: () => base, onStoreError: options.onStoreError });
  return {
    settings,
    quotas: options.quotas,
    storeKind: options.storeKind,
    checkAddress: (ip, nowMs) => limiter.checkAddress({ ip, nowMs }),
    async checkCaller(input) {
      const config = await settings.effective(input.projectId, input.environment);
      // The `auth` class (sign-up, sign-in, recovery) is blind to the user token: each account an
      // attacker signs up is a fresh valid token, so counting by user would give every sign-up its
      // own budget. Guests count by address, a secret key (which no client can mint) by key, at
      // the key's tier, under the key's override.
      const tokenBlind = input.routeClass === 'auth';
      const userId = tokenBlind ? undefined : input.userId;
      const tier = tokenBlind ? (input.keyIsShared ? 'guest' : 'admin') : input.tier;
      const countByIp = userId === undefined && input.keyIsShared;
      const subject = resolveSubject({
        projectId: input.projectId, environment: input.environment, userId,
        keyId: countByIp ? undefined : input.keyId, ip: input.ip,
      });
      const overrideIds = userId !== undefined ? [`user:${userId}`] : [`key:${input.keyId}`];
      const caller = await limiter.check({ routeClass: input.routeClass, tier, subject, nowMs: input.nowMs, config, overrideIds });
      // The named account is counted only once the caller has room, so a refused caller cannot
      // spend someone else's account budget.
      if (!caller.allowed) return { ...caller, subject: subject.id };
      if (input.account === undefined) return caller;
      const account = accountSubject(input.projectId, input.environment, input.account);
      const named = await limiter.check({ routeClass: input.routeClass, tier, subject: account, nowMs: input.nowMs, config, overrideIds });
      return named.allowed ? caller : { ...named, subject: account.id };
    },
  };
}

export interface RateLimitsRuntime {
  rateLimits: RateLimits;
  /** Closes the Redis client, if any. */
  close(): Promise<void>;
}

/**
 * From the config: MemoryStore without REDIS_URL, else a RedisStore on a dedicated fail-fast
 * client. Waits briefly for Redis at start; if it is not there, the server still starts and each
 * class applies its fail mode until Redis answers (reconnection is automatic).
 */
export async function createRateLimits(options: {
  redisUrl: string | undefined;
  rateLimits: LimitsConfig;
  db: Kysely<Database>;
  logger: Logger;
  now: () => string;
  onStoreError: StoreErrorHandler;
  /** ms of settings cache. Default 1000. */
  settingsCacheTtlMs?: number;
}): Promise<RateLimitsRuntime> {
  const base = validateLimitsConfig(options.rateLimits);
  const settings = createLimitSettings({
    store: createLimitSettingsStore(options.db),
    base,
    now: options.now,
    cacheTtlMs: options.settingsCacheTtlMs,
    onInvalidStored: (projectId, environment, problems) =>
      options.logger.error({ project: projectId, environment, problems }, 'stored rate-limit settings are invalid; the config file policy applies'),
  });
  if (!options.redisUrl) {
    return {
      rateLimits: createRateLimitsOver({ store: new MemoryStore(), storeKind: 'memory', quotas: new MemoryQuotaCounter(), settings, base, onStoreError: options.onStoreError }),
      close: () => Promise.resolve(),
    };
  }
  const client = createLimiterRedisClient(options.redisUrl);
  watchConnection(client, options.logger);
  await waitReady(client, 2_000).catch(() => options.logger.warn('rate-limit Redis not reachable at start; classes apply their fail mode until it is'));
  return {
    rateLimits: createRateLimitsOver({
      store: new RedisStore({ client }), storeKind: 'redis', quotas: new RedisQuotaCounter({ client }), settings, base, onStoreError: options.onStoreError,
    }),
    async close() {
      // quit() waits for replies in flight; disconnect() when the server is already gone.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/**
 * An 'error' listener is required (ioredis prints unhandled ones), and reconnect attempts fail
 * every 200 ms during an outage: log the first failure and the recovery, not each attempt.
 */
function watchConnection(client: Redis, logger: Logger): void {
  const outage = createOutageLog(logger, 'rate-limit Redis');
  client.on('error', (error: Error) => outage.down(error));
  client.on('ready', () => outage.up());
}

function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error('timeout'));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

// Counters shared by every instance, in Redis: one Lua script per decision, so the read, the
// decision and the increments are one atomic step on the server and one network round trip.
//
// Clock: the caller passes nowMs (so tests can freeze time) instead of the script reading Redis's
// TIME. Every instance must therefore keep its clock synchronised (NTP): the window index is
// floor(nowMs / windowMs) and is part of the key, so two instances that disagree on the time near
// a boundary count in different windows for the moment they disagree, but a stale key can never
// be mistaken for a later window's counter. Key TTLs only collect garbage; the reset time reported
// to clients comes from the window index, identical on every instance.
//
// Failure: a dead Redis must fail fast, not queue requests until it returns, so the client is
// required to have no offline queue and a command timeout (see LIMITER_REDIS_OPTIONS). Every
// Redis error becomes LimiterUnavailableError, and the route class's failMode decides.
import { Redis, type RedisOptions } from 'ioredis';
import type { Window } from './policy.js';
import { decisionFromCounts, LimiterUnavailableError, windowIndex, type Decision, type LimiterStore } from './store.js';

// KEYS[i]: counter of window i. ARGV[i]: its limit. ARGV[n+i]: its TTL in ms.
// Returns { allowed (1|0), count_1 .. count_n } with the counts as they were BEFORE this request.
// Nothing is written unless every window has room: a denied request does not consume.
const HIT_SCRIPT = `
local n = #KEYS
local result = { 1 }
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  result[i + 1] = count
  if count >= tonumber(ARGV[i]) then result[1] = 0 end
end
if result[1] == 1 then
  for i = 1, n do
    if redis.call('INCR', KEYS[i]) == 1 then
      redis.call('PEXPIRE', KEYS[i], ARGV[n + i])
    end
  end
end
return result
`;

const COMMAND = 'gatehouseLimitHit';

/** Keys outlive their window by this much so an instance whose clock lags a little still finds them. */
const TTL_GRACE_MS = 5_000;

/**
 * Options for the limiter's own ioredis client. A dedicated client, because a shared one with an
 * offline queue would make limiter calls wait for reconnection instead of failing fast.
 */
export const LIMITER_REDIS_OPTIONS = Object.freeze({
  /**
   * ms: a decision that takes longer than this counts as an outage. A healthy decision takes well
   * under 1 ms; the margin is for event-loop lag on a busy instance, where the timer can fire
   * before the (already received) reply is read, turning load into spurious 503s.
   */
  commandTimeout: 1_000,
  /** ms: a black-holed host must not stall reconnection for ioredis's default 10 s. */
  connectTimeout: 1_000,
  /** Reject at once while disconnected instead of queueing. */
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  /** ms between reconnect attempts: 50, 100, 150, then 200 forever, so a returning Redis is used within ~0.2 s. */
  retryStrategy: (times: number): number => Math.min(times * 50, 200),
} satisfies RedisOptions);

/** Attach an 'error' listener to log connection errors; failed decisions already throw LimiterUnavailableError. */
export function createLimiterRedisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...LIMITER_REDIS_OPTIONS, ...options });
}

export interface RedisStoreOptions {
  /** A client configured with LIMITER_REDIS_OPTIONS (checked). The store never closes it. */
  client: Redis;
  /** Prefix of every key. Default `gatehouse:rl:`. */
  prefix?: string;
}

type HitCommand = (numKeys: number, ...args: Array<string | number>) => Promise<unknown>;

export class RedisStore implements LimiterStore {
  readonly #hit: HitCommand;
  readonly #prefix: string;

  constructor(options: RedisStoreOptions) {
    const { client } = options;
    if (client.options.enableOfflineQueue !== false) {
      throw new TypeError('RedisStore: the client must have enableOfflineQueue: false (use createLimiterRedisClient)');
    }
    if (!client.options.commandTimeout || client.options.commandTimeout <= 0) {
      throw new TypeError('RedisStore: the client must have a commandTimeout (use createLimiterRedisClient)');
    }
    this.#prefix = options.prefix ?? 'gatehouse:rl:';
    // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart
    // emptied the script cache), so the steady state sends the 40-byte hash, not the script.
    client.defineCommand(COMMAND, { lua: HIT_SCRIPT });
    const command = (client as unknown as Record<string, HitCommand>)[COMMAND];
    if (typeof command !== 'function') throw new TypeError('RedisStore: defineCommand did not register the script');
    this.#hit = command.bind(client);
  }

  async hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision> {
    // The {hash tag} keeps every window of a subject in one Redis Cluster slot, as a multi-key
    // script requires. The subject key is percent-encoded, so it holds no braces of its own.
    const keys = windows.map((w) => `${this.#prefix}{${key}}:${w.windowMs}:${windowIndex(nowMs, w.windowMs)}`);
    const limits = windows.map((w) => w.limit);
    const ttls = windows.map((w) => (windowIndex(nowMs, w.windowMs) + 1) * w.windowMs - nowMs + TTL_GRACE_MS);
    let reply: unknown;
    try {
      reply = await this.#hit(keys.length, ...keys, ...limits, ...ttls);
    } catch (error) {
      throw new LimiterUnavailableError('rate-limit store (Redis) unavailable', { cause: error });
    }
    if (!Array.isArray(reply) || reply.length !== windows.length + 1 || !reply.every((v) => typeof v === 'number')) {
      throw new LimiterUnavailableError('rate-limit store (Redis) returned an unexpected reply');
    }
    const [allowedFlag, ...before] = reply as number[];
    const decision = decisionFromCounts(windows, before, nowMs);
    // Same arithmetic on both sides; a mismatch means the script and this file disagree.
    if (decision.allowed !== (allowedFlag === 1)) {
      throw new LimiterUnavailableError('rate-limit store (Redis) decision disagrees with the counts');
    }
    return decision;
  }
}

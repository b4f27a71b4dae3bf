// Counters shared by every instance, in Redis: windows, totals and attempts on ONE fail-fast
// client. One Lua script (or one command) per operation, so the read, the decision and the
// writes are one atomic step on the server and one network round trip.
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
// Redis error becomes the one outage error (counterStoreUnavailable), and the caller's fail mode
// decides: the route class's for the limiter, closed for token quotas and sign-in backoff.
import { Redis, type RedisOptions } from 'ioredis';
import type { Window } from './policy.js';
import {
  checkTotal, counterStoreUnavailable, decisionFromCounts, TOTAL_GRACE_MS, windowIndex,
  type AttemptState, type CounterStore, type Decision,
} from './store.js';

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

// INCRBY and the expiry in one step: a crash between two commands must not leave an immortal key.
// PEXPIREAT only ever moves the expiry later (GT needs Redis 7, so compare by hand).
// KEYS[1]: the total. ARGV: amount, keep-until ms, now ms.
const ADD_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local at = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or tonumber(ARGV[3]) + ttl < at then redis.call('PEXPIREAT', KEYS[1], at) end
return total
`;

// Count the failure, remember when, and push the expiry out. KEYS[1]: the hash. ARGV: now ms, ttl ms.
const RECORD_FAILURE_SCRIPT = `
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
redis.call('HSET', KEYS[1], 'l', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return failures
`;

const COMMANDS = { hit: 'gatehouseLimitHit', add: 'gatehouseQuotaAdd', recordFailure: 'gatehouseAttemptRecord' } as const;

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

/** Attach an 'error' listener to log connection errors; failed operations already throw the outage error. */
export function createLimiterRedisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...LIMITER_REDIS_OPTIONS, ...options });
}

export interface RedisStoreOptions {
  /** A client configured with LIMITER_REDIS_OPTIONS (checked). The store never closes it. */
  client: Redis;
  /**
   * A namespace for every key (tests): windows under `<prefix>rl:`, totals `<prefix>quota:`,
   * attempts `<prefix>attempts:`. Default: the production keys, `gatehouse:rl:`,
   * `gatehouse:quota:` and `gh:attempts:`, which every instance of every version shares.
   */
  prefix?: string;
}

type ScriptCommand = (numKeys: number, ...args: Array<string | number>) => Promise<unknown>;

export class RedisStore implements CounterStore {
  readonly kind = 'redis';
  readonly #client: Redis;
  readonly #hit: ScriptCommand;
  readonly #add: ScriptCommand;
  readonly #recordFailure: ScriptCommand;
  readonly #prefix: string;
  readonly #totalsPrefix: string;
  readonly #attemptsPrefix: string;

  constructor(options: RedisStoreOptions) {
    const { client } = options;
    if (client.options.enableOfflineQueue !== false) {
      throw new TypeError('RedisStore: the client must have enableOfflineQueue: false (use createLimiterRedisClient)');
    }
    if (!client.options.commandTimeout || client.options.commandTimeout <= 0) {
      throw new TypeError('RedisStore: the client must have a commandTimeout (use createLimiterRedisClient)');
    }
    this.#client = client;
    this.#prefix = options.prefix === undefined ? 'gatehouse:rl:' : `${options.prefix}rl:`;
    this.#totalsPrefix = options.prefix === undefined ? 'gatehouse:quota:' : `${options.prefix}quota:`;
    this.#attemptsPrefix = options.prefix === undefined ? 'gh:attempts:' : `${options.prefix}attempts:`;
    this.#hit = defineScript(client, COMMANDS.hit, HIT_SCRIPT);
    this.#add = defineScript(client, COMMANDS.add, ADD_SCRIPT);
    this.#recordFailure = defineScript(client, COMMANDS.recordFailure, RECORD_FAILURE_SCRIPT);
  }

  async hit(key: string, windows: readonly Window[], nowMs: number): Promise<Decision> {
    // The {hash tag} keeps every window of a subject in one Redis Cluster slot, as a multi-key
    // script requires. The subject key is percent-encoded, so it holds no braces of its own.
    // One argument list in one pass (KEYS, then limits, then TTLs; see HIT_SCRIPT): no spreads per request.
    const n = windows.length;
    const args: Array<string | number> = [];
    for (let i = 0; i < n; i++) {
      const w = windows[i]!;
      args.push(`${this.#prefix}{${key}}:${w.windowMs}:${windowIndex(nowMs, w.windowMs)}`);
    }
    for (let i = 0; i < n; i++) args.push(windows[i]!.limit);
    for (let i = 0; i < n; i++) {
      const w = windows[i]!;
      args.push((windowIndex(nowMs, w.windowMs) + 1) * w.windowMs - nowMs + TTL_GRACE_MS);
    }
    let reply: unknown;
    try {
      reply = await this.#hit(n, ...args);
    } catch (error) {
      throw counterStoreUnavailable('rate-limit store (Redis) unavailable', error);
    }
    if (!Array.isArray(reply) || reply.length !== n + 1 || !reply.every((v) => typeof v === 'number')) {
      throw counterStoreUnavailable('rate-limit store (Redis) returned an unexpected reply');
    }
    const allowedFlag = reply[0] as number;
    const before = (reply as number[]).slice(1);
    const decision = decisionFromCounts(windows, before, nowMs);
    // Same arithmetic on both sides; a mismatch means the script and this file disagree.
    if (decision.allowed !== (allowedFlag === 1)) {
      throw counterStoreUnavailable('rate-limit store (Redis) decision disagrees with the counts');
    }
    return decision;
  }

  async add(key: string, amount: number, keepUntilMs: number, nowMs: number): Promise<number> {
    checkTotal(key, amount);
    const reply = await this.#call('quota store', () => this.#add(1, this.#totalsPrefix + key, amount, keepUntilMs + TOTAL_GRACE_MS, nowMs));
    if (typeof reply !== 'number') throw counterStoreUnavailable('quota store (Redis) returned an unexpected reply');
    return reply;
  }

  // Redis expires totals and attempts itself (PEXPIREAT / PEXPIRE): `nowMs` is not needed to read them.
  async total(key: string, _nowMs?: number): Promise<number> {
    checkTotal(key, 0);
    const reply = await this.#call('quota store', () => this.#client.get(this.#totalsPrefix + key));
    return reply === null ? 0 : Number(reply);
  }

  async recordFailure(key: string, nowMs: number, ttlMs: number): Promise<AttemptState> {
    const failures = await this.#call('attempt store', () => this.#recordFailure(1, this.#attemptsPrefix + key, String(nowMs), String(ttlMs)));
    return { failures: Number(failures), lastFailureMs: nowMs };
  }

  async failures(key: string, _nowMs?: number): Promise<AttemptState | null> {
    const [f, l] = await this.#call('attempt store', () => this.#client.hmget(this.#attemptsPrefix + key, 'f', 'l'));
    if (f === null || l === null || f === undefined || l === undefined) return null;
    return { failures: Number(f), lastFailureMs: Number(l) };
  }

  async reset(key: string): Promise<void> {
    await this.#call('attempt store', () => this.#client.del(this.#attemptsPrefix + key));
  }

  async mark(key: string, _nowMs: number, ttlMs: number): Promise<void> {
    await this.#call('attempt store', () => this.#client.set(this.#attemptsPrefix + key, '1', 'PX', ttlMs));
  }

  async isMarked(key: string, _nowMs?: number): Promise<boolean> {
    return (await this.#call('attempt store', () => this.#client.exists(this.#attemptsPrefix + key))) === 1;
  }

  async #call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw counterStoreUnavailable(`${what} (Redis) unavailable`, error);
    }
  }
}

// defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart
// emptied the script cache), so the steady state sends the 40-byte hash, not the script.
function defineScript(client: Redis, name: string, lua: string): ScriptCommand {
  client.defineCommand(name, { lua });
  const command = (client as unknown as Record<string, ScriptCommand>)[name];
  if (typeof command !== 'function') throw new TypeError('RedisStore: defineCommand did not register the script');
  return command.bind(client);
}

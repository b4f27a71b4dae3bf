// Quota counters: totals that are not per-window request counts (LLM tokens per month, requests
// per billing month). They live in the same store as the rate limits, so with Redis every
// instance adds to one total and a quota holds across instances exactly as the windows do.
//
// The caller names the period in the key (e.g. `…:tokens:2026-11`) and says when it ends; the
// store only adds atomically and forgets the total after the period (plus a grace, so a lagging
// clock still finds it). A period that has not started yet is the caller's business.
//
// Errors: an unreachable store throws LimiterUnavailableError, like the limiter, so the caller
// applies its own fail mode (the LLM proxy should fail closed: an unmetered provider bill).
import type { Redis } from 'ioredis';
import { LimiterUnavailableError } from './store.js';

export interface QuotaCounter {
  /**
   * Atomically adds `amount` (a non-negative integer) to `key` and returns the new total. The
   * total is kept at least until `periodEndMs` (epoch ms). `amount` 0 reads without changing.
   */
  addUsage(key: string, amount: number, periodEndMs: number): Promise<number>;
  /** The current total (0 when unknown or expired). */
  get(key: string): Promise<number>;
}

/** Totals outlive their period by this much: an instance whose clock lags still adds to the right total. */
const GRACE_MS = 60 * 60_000;

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new TypeError('quota: amount must be a non-negative safe integer');
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw new TypeError('quota: key must be 1..512 characters');
}

/** One process only: totals are lost on restart and not shared. Bounded by expiry. */
export class MemoryQuotaCounter implements QuotaCounter {
  readonly #totals = new Map<string, { total: number; expiresAtMs: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  // async only for the interface (errors become rejections); no await inside, so read-add-write is atomic.
  async addUsage(key: string, amount: number, periodEndMs: number): Promise<number> {
    checkKey(key);
    checkAmount(amount);
    const now = this.#now();
    this.#sweep(now);
    const stored = this.#totals.get(key);
    const entry = stored && stored.expiresAtMs > now ? stored : undefined;
    const expiresAtMs = Math.max(entry?.expiresAtMs ?? 0, periodEndMs + GRACE_MS);
    const total = (entry?.total ?? 0) + amount;
    this.#totals.set(key, { total, expiresAtMs });
    return total;
  }

  async get(key: string): Promise<number> {
    checkKey(key);
    const entry = this.#totals.get(key);
    return entry && entry.expiresAtMs > this.#now() ? entry.total : 0;
  }

  // O(n) but only when something has expired; totals are few (one per subject and period).
  #nextSweepMs = 0;
  #sweep(now: number): void {
    if (now < this.#nextSweepMs) return;
    this.#nextSweepMs = now + 60_000;
    for (const [key, entry] of this.#totals) if (entry.expiresAtMs <= now) this.#totals.delete(key);
  }
}

// INCRBY and the expiry in one step: a crash between two commands must not leave an immortal key.
// PEXPIREAT only ever moves the expiry later (GT needs Redis 7, so compare by hand).
const ADD_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local at = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or tonumber(ARGV[3]) + ttl < at then redis.call('PEXPIREAT', KEYS[1], at) end
return total
`;

const COMMAND = 'gatehouseQuotaAdd';
type AddCommand = (numKeys: number, ...args: Array<string | number>) => Promise<unknown>;

/** Shared totals in Redis. Use the limiter's client (createLimiterRedisClient): it fails fast. */
export class RedisQuotaCounter implements QuotaCounter {
  readonly #client: Redis;
  readonly #add: AddCommand;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: { client: Redis; prefix?: string; now?: () => number }) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'gatehouse:quota:';
    this.#now = options.now ?? Date.now;
    options.client.defineCommand(COMMAND, { lua: ADD_SCRIPT });
    const command = (options.client as unknown as Record<string, AddCommand>)[COMMAND];
    if (typeof command !== 'function') throw new TypeError('RedisQuotaCounter: defineCommand did not register the script');
    this.#add = command.bind(options.client);
  }

  async addUsage(key: string, amount: number, periodEndMs: number): Promise<number> {
    checkKey(key);
    checkAmount(amount);
    let reply: unknown;
    try {
      reply = await this.#add(1, this.#prefix + key, amount, periodEndMs + GRACE_MS, this.#now());
    } catch (error) {
      throw new LimiterUnavailableError('quota store (Redis) unavailable', { cause: error });
    }
    if (typeof reply !== 'number') throw new LimiterUnavailableError('quota store (Redis) returned an unexpected reply');
    return reply;
  }

  async get(key: string): Promise<number> {
    checkKey(key);
    let reply: string | null;
    try {
      reply = await this.#client.get(this.#prefix + key);
    } catch (error) {
      throw new LimiterUnavailableError('quota store (Redis) unavailable', { cause: error });
    }
    return reply === null ? 0 : Number(reply);
  }
}

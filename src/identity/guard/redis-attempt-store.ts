import type { Redis } from 'ioredis';
import { GatehouseError } from '../../errors/index.js';
import type { AttemptState, AttemptStore } from './attempt-store.js';

// One round trip, atomic: count the failure, remember when, and push the expiry out.
const RECORD = `
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
redis.call('HSET', KEYS[1], 'l', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return failures
`;

/**
 * Failed sign-in counters shared by every instance, so that an attacker cannot
 * multiply their guesses by spreading them over instances. A Redis outage fails
 * closed (503): sign-in without backoff is what a credential stuffer waits for.
 */
export function createRedisAttemptStore(client: Redis, prefix = 'gh:attempts:'): AttemptStore {
  const unavailable = (cause: unknown) => new GatehouseError('service_unavailable', { message: 'Sign-in is briefly unavailable; retry shortly.', retryAfterS: 1, cause });
  return {
    async recordFailure(key, nowMs, ttlMs) {
      try {
        const failures = Number(await client.eval(RECORD, 1, prefix + key, String(nowMs), String(ttlMs)));
        return { failures, lastFailureMs: nowMs };
      } catch (error) {
        throw unavailable(error);
      }
    },
    async get(key): Promise<AttemptState | null> {
      try {
        const [f, l] = await client.hmget(prefix + key, 'f', 'l');
        if (f === null || l === null) return null;
        return { failures: Number(f), lastFailureMs: Number(l) };
      } catch (error) {
        throw unavailable(error);
      }
    },
    async reset(key) {
      try {
        await client.del(prefix + key);
      } catch (error) {
        throw unavailable(error);
      }
    },
    async mark(key, _nowMs, ttlMs) {
      try {
        await client.set(prefix + key, '1', 'PX', ttlMs);
      } catch (error) {
        throw unavailable(error);
      }
    },
    async isMarked(key) {
      try {
        return (await client.exists(prefix + key)) === 1;
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

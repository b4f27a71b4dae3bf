import { availableParallelism } from 'node:os';
import { hash, parseOptions, verify } from '@node-rs/argon2';
import { GatehouseError } from '../../errors/index.js';

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export interface HashGateOptions {
  /** Argon2 computations at once; the rest wait their turn. */
  concurrency: number;
  /** Waiting computations beyond which new ones are refused at once (hash-flood DoS). */
  queueMax: number;
}

export interface PasswordHasher {
  /** Argon2id PHC string; computed on libuv's thread pool, never on the event loop. */
  hash(password: string): Promise<string>;
  /**
   * Verifies, or burns the same time against a dummy hash when there is no
   * stored hash (unknown email), so that response time does not reveal which
   * accounts exist.
   */
  verify(stored: string | null, password: string): Promise<boolean>;
  /** True when the stored hash was made with other parameters than today's. */
  needsRehash(stored: string): boolean;
}

// @node-rs/argon2 declares its enums `const`, which isolatedModules cannot
// inline; these are the published values.
const ARGON2ID = 2;
const VERSION_0x13 = 1;

/**
 * Argon2 runs on libuv's thread pool, off the event loop, but it still takes a
 * CPU for tens of milliseconds. Unbounded, a burst of sign-ins occupies every
 * core (and every pool thread, which WebCrypto's JWT signing also needs) and
 * starves all other requests; so hashes go through a small gate sized below
 * the core count, and a flood beyond the queue is refused fast with 503.
 */
function createGate({ concurrency, queueMax }: HashGateOptions) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function gated<T>(work: () => Promise<T>): Promise<T> {
    if (running >= concurrency) {
      if (waiting.length >= queueMax) {
        throw new GatehouseError('service_unavailable', { message: 'Too many sign-ins in progress; retry shortly.', retryAfterS: 1 });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

export function defaultHashGate(): HashGateOptions {
  return { concurrency: Math.max(1, availableParallelism() - 1), queueMax: 256 };
}

export async function createPasswordHasher(params: Argon2Params, gate: HashGateOptions = defaultHashGate()): Promise<PasswordHasher> {
  const gated = createGate(gate);
  const options = {
    algorithm: ARGON2ID as never,
    version: VERSION_0x13 as never,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
  // Made once per process with today's parameters, so a miss costs what a hit costs.
  const dummy = await hash('gatehouse-dummy-password-for-timing', options);
  return {
    hash: (password) => gated(() => hash(password, options)),
    async verify(stored, password) {
      if (!stored) {
        await gated(() => verify(dummy, password).catch(() => false));
        return false;
      }
      try {
        return await gated(() => verify(stored, password));
      } catch (error) {
        if (error instanceof GatehouseError) throw error;
        // A malformed stored hash is a failed sign-in, never a 500 that tells the account exists.
        return false;
      }
    },
    needsRehash(stored) {
      try {
        const p = parseOptions(stored);
        return (p.algorithm as number) !== ARGON2ID || p.memoryCost !== params.memoryKiB || p.timeCost !== params.iterations || p.parallelism !== params.parallelism;
      } catch {
        return true;
      }
    },
  };
}

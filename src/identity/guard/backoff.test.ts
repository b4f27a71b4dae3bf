import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { MemoryStore } from '../../limits/index.js';
import { backoffDelayMs, createSignInBackoff } from './backoff.js';
import { clockAt } from '../../shared/clock.js';

const noEvents: SecurityEvents = { record: () => {}, list: async () => [], flush: async () => {}, prune: async () => 0 };

describe('sign-in backoff', () => {
  it('is free for the first attempts, then doubles, capped', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffDelayMs(n, 3, 1000, 10_000));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('answers 429 with Retry-After while cooling down; success clears only the account', async () => {
    let now = 0;
    const backoff = createSignInBackoff({
      store: new MemoryStore(), clock: clockAt(() => now), events: noEvents,
      policy: { freePerAccount: 2, freePerAccountAllAddresses: 100, freePerIp: 100, baseMs: 1000, maxMs: 60_000 },
    });
    const subject = { projectId: 'p', environment: 'dev', account: 'a@example.test', ip: '198.51.100.1' };
    await backoff.failed(subject);
    await backoff.check(subject);
    await backoff.failed(subject);
    const error = await backoff.check(subject).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('over_request_rate_limit');
    expect((error as GatehouseError).retryAfterS).toBe(1);
    now += 1000;
    await backoff.check(subject);
    await backoff.succeeded(subject);
    await backoff.failed(subject);
    await backoff.check(subject); // one failure after the reset: free again
  });
});

import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import type { Clock } from '../../shared/clock.js';
import type { AttemptStore } from './attempt-store.js';

export interface BackoffPolicy {
  freePerAccount: number;
  freePerIp: number;
  baseMs: number;
  maxMs: number;
}

export interface SignInSubject {
  projectId: string;
  environment: string;
  /** Normalised email (may not exist: unknown accounts back off the same way). */
  account: string;
  ip: string;
  requestId?: string;
}

export interface SignInBackoff {
  /** Throws 429 over_request_rate_limit with Retry-After while either counter is cooling down. */
  check(subject: SignInSubject): Promise<void>;
  failed(subject: SignInSubject): Promise<void>;
  /** A success clears the account's counter (not the IP's: one good password must not launder a spray). */
  succeeded(subject: SignInSubject): Promise<void>;
}

/** Delay after `failures` failures: none for the free ones, then base·2^n, capped. */
export function backoffDelayMs(failures: number, free: number, baseMs: number, maxMs: number): number {
  if (failures < free) return 0;
  const exponent = Math.min(failures - free, 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

export function createSignInBackoff({ store, clock, events, policy }: { store: AttemptStore; clock: Clock; events: SecurityEvents; policy: BackoffPolicy }): SignInBackoff {
  const accountKey = (s: SignInSubject) => `signin:acct:${s.projectId}/${s.environment}/${s.account}`;
  // Per IP across environments: a sprayer rotating projects is still one client.
  const ipKey = (s: SignInSubject) => `signin:ip:${s.ip}`;
  const forgetMs = policy.maxMs * 2;

  function waitMs(state: { failures: number; lastFailureMs: number } | null, free: number, nowMs: number): number {
    if (!state) return 0;
    return Math.max(0, state.lastFailureMs + backoffDelayMs(state.failures, free, policy.baseMs, policy.maxMs) - nowMs);
  }

  return {
    async check(subject) {
      const nowMs = clock.now().getTime();
      const [account, ip] = await Promise.all([store.get(accountKey(subject), nowMs), store.get(ipKey(subject), nowMs)]);
      const wait = Math.max(waitMs(account, policy.freePerAccount, nowMs), waitMs(ip, policy.freePerIp, nowMs));
      if (wait <= 0) return;
      const retryAfterS = Math.ceil(wait / 1000);
      events.record('sign_in_backoff', {
        projectId: subject.projectId, environment: subject.environment, ip: subject.ip, requestId: subject.requestId,
        details: { retry_after: retryAfterS, account_failures: account?.failures ?? 0, ip_failures: ip?.failures ?? 0 },
      });
      throw new GatehouseError('over_request_rate_limit', { retryAfterS, message: `Too many failed sign-in attempts; retry in ${retryAfterS} s.` });
    },
    async failed(subject) {
      const nowMs = clock.now().getTime();
      await Promise.all([store.recordFailure(accountKey(subject), nowMs, forgetMs), store.recordFailure(ipKey(subject), nowMs, forgetMs)]);
    },
    async succeeded(subject) {
      await store.reset(accountKey(subject));
    },
  };
}

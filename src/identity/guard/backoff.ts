import { GatehouseError } from '../../errors/index.js';
import type { AttemptStore } from '../../limits/index.js';
import { normaliseIp } from '../../shared/ip.js';
import type { SecurityEvents } from '../../observability/index.js';
import type { Clock } from '../../shared/clock.js';

// Failed sign-ins are slowed by three counters, so that the guesser is refused and the people
// who share its address (a campus or mobile-carrier NAT) are not:
//
//   pair     one account from one address: the everyday brake on guessing a password. It only
//            ever refuses that account from that address.
//   account  one account from every address: a guessing run spread over many addresses (a
//            botnet). Set higher, and skipped for an address the owner has recently signed in
//            from, so that a stranger elsewhere cannot lock the owner out of their usual place.
//   address  one address against every account: credential stuffing (many accounts, a guess or
//            two each). Its ceiling is far above the failures an honest crowd makes, it counts per
//            fixed window (so a crowd's steady typos never add up to a lockout), and it too skips
//            an account already signed into from that address.
//
// "Recently signed in from" is a marker written on each successful sign-in (KNOWN_TTL_MS): only
// someone holding the password can make one, so a stuffer never has one for its victims.

export interface BackoffPolicy {
  /** Failures of one account from one address before that pair backs off. */
  freePerAccount: number;
  /** Failures of one account from all addresses together before addresses without a recent success there back off. */
  freePerAccountAllAddresses: number;
  /** Failures from one address (all accounts) per window before accounts without a recent success there back off. */
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
  /** Throws 429 over_request_rate_limit with Retry-After while a counter that applies is cooling down. */
  check(subject: SignInSubject): Promise<void>;
  failed(subject: SignInSubject): Promise<void>;
  /**
   * A success clears the pair's and the account's counters and marks the address as known to the
   * account. Not the address's counter: one good password must not launder a spray.
   */
  succeeded(subject: SignInSubject): Promise<void>;
}

/** A successful sign-in exempts its address from the account and address counters for this long (30 days). */
export const KNOWN_TTL_MS = 30 * 24 * 3600_000;

/** Delay after `failures` failures: none for the free ones, then base·2^n, capped. */
export function backoffDelayMs(failures: number, free: number, baseMs: number, maxMs: number): number {
  if (failures < free) return 0;
  const exponent = Math.min(failures - free, 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

/** Unparseable addresses (no socket address) share one counter rather than escaping all of them. */
function addressOf(ip: string): string {
  try {
    return normaliseIp(ip);
  } catch {
    return 'unknown';
  }
}

export function createSignInBackoff({ store, clock, events, policy }: { store: AttemptStore; clock: Clock; events: SecurityEvents; policy: BackoffPolicy }): SignInBackoff {
  // Addresses are normalised like the rate limiter's (IPv6 to its /64): otherwise a host could
  // rotate through its 2^64 addresses for a fresh counter on every guess.
  const scope = (s: SignInSubject) => `${encodeURIComponent(s.projectId)}/${encodeURIComponent(s.environment)}`;
  const account = (s: SignInSubject) => encodeURIComponent(s.account);
  const address = (s: SignInSubject) => encodeURIComponent(addressOf(s.ip));
  const pairKey = (s: SignInSubject) => `signin:pair:${scope(s)}/${account(s)}/${address(s)}`;
  const accountKey = (s: SignInSubject) => `signin:acct:${scope(s)}/${account(s)}`;
  const knownKey = (s: SignInSubject) => `signin:known:${scope(s)}/${account(s)}/${address(s)}`;
  // Per address across environments (a sprayer rotating projects is still one client), in fixed
  // windows of maxMs: the window in the key, so both stores count it the same way.
  const addressKey = (s: SignInSubject, nowMs: number) => `signin:ip:${address(s)}:${Math.floor(nowMs / policy.maxMs)}`;
  const forgetMs = policy.maxMs * 2;

  function waitMs(state: { failures: number; lastFailureMs: number } | null, free: number, nowMs: number): number {
    if (!state) return 0;
    return Math.max(0, state.lastFailureMs + backoffDelayMs(state.failures, free, policy.baseMs, policy.maxMs) - nowMs);
  }

  return {
    async check(subject) {
      const nowMs = clock.nowMs();
      const [pair, acct, ip, known] = await Promise.all([
        store.failures(pairKey(subject), nowMs), store.failures(accountKey(subject), nowMs), store.failures(addressKey(subject, nowMs), nowMs), store.isMarked(knownKey(subject), nowMs),
      ]);
      const wait = Math.max(
        waitMs(pair, policy.freePerAccount, nowMs),
        known ? 0 : waitMs(acct, policy.freePerAccountAllAddresses, nowMs),
        known ? 0 : waitMs(ip, policy.freePerIp, nowMs),
      );
      if (wait <= 0) return;
      const retryAfterS = Math.ceil(wait / 1000);
      events.record('sign_in_backoff', {
        projectId: subject.projectId, environment: subject.environment, ip: subject.ip, requestId: subject.requestId,
        details: { retry_after: retryAfterS, pair_failures: pair?.failures ?? 0, account_failures: acct?.failures ?? 0, ip_failures: ip?.failures ?? 0, known_address: known },
      });
      throw new GatehouseError('over_request_rate_limit', { retryAfterS, message: `Too many failed sign-in attempts; retry in ${retryAfterS} s.` });
    },
    async failed(subject) {
      const nowMs = clock.nowMs();
      await Promise.all([
        store.recordFailure(pairKey(subject), nowMs, forgetMs),
        store.recordFailure(accountKey(subject), nowMs, forgetMs),
        store.recordFailure(addressKey(subject, nowMs), nowMs, policy.maxMs),
      ]);
    },
    async succeeded(subject) {
      const nowMs = clock.nowMs();
      await Promise.all([store.reset(pairKey(subject)), store.reset(accountKey(subject)), store.mark(knownKey(subject), nowMs, KNOWN_TTL_MS)]);
    },
  };
}

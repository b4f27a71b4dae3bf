// Token quotas per user and period: the one interface the LLM proxy's quotas count through
// (src/llm/usage). Over the counter store's totals (with REDIS_URL: INCRBY in one script per period
// key, so every instance adds to one total with no database write on the request path); without
// Redis the LLM module backs it with SQL through the write-behind buffer instead, because memory
// totals would not survive a restart.
//
// Periods are the LLM module's keys: `day:YYYY-MM-DD` and `month:YYYY-MM` (UTC). The period end
// decides when the total may be forgotten; an unknown period shape is our own bug (TypeError).
import type { Clock } from '../shared/clock.js';
import type { QuotaCounter } from './store.js';

export interface PeriodQuotaSubject {
  projectId: string;
  environment: string;
  userId: string;
}

export interface PeriodQuotaStore {
  /** Tokens counted so far in each period, in the order given. */
  used(subject: PeriodQuotaSubject, periods: readonly string[]): Promise<number[]>;
  /** Adds tokens to every period, atomically per period. */
  add(subject: PeriodQuotaSubject, periods: readonly string[], tokens: number): Promise<void>;
}

/** Epoch ms at which a `day:…` or `month:…` period ends (UTC). */
export function periodEndMs(period: string): number {
  const day = /^day:(\d{4})-(\d{2})-(\d{2})$/.exec(period);
  if (day) return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + 1);
  const month = /^month:(\d{4})-(\d{2})$/.exec(period);
  if (month) return Date.UTC(Number(month[1]), Number(month[2]), 1);
  throw new TypeError(`period quota: unknown period ${period.slice(0, 40)}`);
}

export function createPeriodQuotaStore(counter: QuotaCounter, options: { clock: Pick<Clock, 'nowMs'>; name?: string }): PeriodQuotaStore {
  const { clock } = options;
  const name = options.name ?? 'llm_tokens';
  // Components percent-encoded, as subject keys are: an id holding `:` cannot reach another's total.
  const keyOf = (s: PeriodQuotaSubject, period: string) =>
    [s.projectId, s.environment, 'user', s.userId, name, period].map(encodeURIComponent).join(':');
  return {
    used(subject, periods) {
      const nowMs = clock.nowMs();
      return Promise.all(periods.map((p) => counter.total(keyOf(subject, p), nowMs)));
    },
    async add(subject, periods, tokens) {
      if (tokens <= 0) return;
      const nowMs = clock.nowMs();
      await Promise.all(periods.map((p) => counter.add(keyOf(subject, p), tokens, periodEndMs(p), nowMs)));
    },
  };
}

// A per-user, per-period token store over a QuotaCounter: the shape the LLM proxy's QuotaStore
// (src/llm/usage/quota-store.ts) expects, typed structurally so src/limits does not import src/llm.
// With REDIS_URL the counter is Redis (INCRBY in one script per period key), so every instance adds
// to one total with no database write on the request path.
//
// Periods are the LLM module's keys: `day:YYYY-MM-DD` and `month:YYYY-MM` (UTC). The period end
// decides when the total may be forgotten; an unknown period shape is our own bug (TypeError).
import type { QuotaCounter } from './quota.js';

export interface PeriodQuotaSubject {
  projectId: string;
  environment: string;
  userId: string;
}

export interface PeriodQuotaStore {
  used(subject: PeriodQuotaSubject, periods: readonly string[]): Promise<number[]>;
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

export function createPeriodQuotaStore(counter: QuotaCounter, options: { name?: string } = {}): PeriodQuotaStore {
  const name = options.name ?? 'llm_tokens';
  // Components percent-encoded, as subject keys are: an id holding `:` cannot reach another's total.
  const keyOf = (s: PeriodQuotaSubject, period: string) =>
    [s.projectId, s.environment, 'user', s.userId, name, period].map(encodeURIComponent).join(':');
  return {
    used: (subject, periods) => Promise.all(periods.map((p) => counter.get(keyOf(subject, p)))),
    async add(subject, periods, tokens) {
      if (tokens <= 0) return;
      await Promise.all(periods.map((p) => counter.addUsage(keyOf(subject, p), tokens, periodEndMs(p))));
    },
  };
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { isServiceUnavailable } from '../../errors/index.js';
import { limiterUnavailable } from '../../limits/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import type { QuotaStore, QuotaSubject } from './quota-store.js';
import { createTtlCache, KEEP_WARM_MS } from '../../shared/ttl-cache.js';

export interface QuotaLimits {
  tokensPerDay: number | null;
  tokensPerMonth: number | null;
}

const NO_LIMITS: QuotaLimits = { tokensPerDay: null, tokensPerMonth: null };

type Periods = ReadonlyArray<{ name: 'day' | 'month'; key: string; endsAt: Date }>;
let lastPeriods: { startMs: number; endMs: number; periods: Periods } | null = null;

/** UTC calendar periods a moment falls in, and when each ends (computed once per day: every LLM response asks). */
export function periodsAt(at: Date): Periods {
  const ms = at.getTime();
  if (lastPeriods && ms >= lastPeriods.startMs && ms < lastPeriods.endMs) return lastPeriods.periods;
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  const periods: Periods = Object.freeze([
    Object.freeze({ name: 'day' as const, key: `day:${at.toISOString().slice(0, 10)}`, endsAt: new Date(Date.UTC(y, m, d + 1)) }),
    Object.freeze({ name: 'month' as const, key: `month:${at.toISOString().slice(0, 7)}`, endsAt: new Date(Date.UTC(y, m + 1, 1)) }),
  ]);
  lastPeriods = { startMs: Date.UTC(y, m, d), endMs: Date.UTC(y, m, d + 1), periods };
  return periods;
}

/**
 * Per-user token quotas of a project environment. A request is refused once
 * a period's count has reached its limit; its own tokens are only known
 * afterwards, so one request may overshoot the limit (the usual trade-off of
 * counting tokens, which cannot be reserved up front).
 */
export function createQuotaService({ db, store, clock, cacheMs }: { db: Kysely<Database>; store: QuotaStore; clock: Clock; cacheMs: number }) {
  // Kept warm (ttl-cache.ts): limits in use are read again before they expire, off the request path.
  const cache = createTtlCache<Promise<QuotaLimits>>({ ttlMs: cacheMs, clock, keepWarmMs: KEEP_WARM_MS });

  async function loadLimits(projectId: string, environment: string): Promise<QuotaLimits> {
    const row = await db.selectFrom('llm_quotas').selectAll().where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
    if (!row) return NO_LIMITS;
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return { tokensPerDay: num(row.tokens_per_day), tokensPerMonth: num(row.tokens_per_month) };
  }

  function limitsOf(projectId: string, environment: string): Promise<QuotaLimits> {
    return cache.getOrLoad(`${projectId}/${environment}`, () => loadLimits(projectId, environment));
  }


  function active(limits: QuotaLimits, at: Date) {
    if (limits.tokensPerDay === null && limits.tokensPerMonth === null) return [];
    return periodsAt(at)
      .map((p) => ({ ...p, limit: p.name === 'day' ? limits.tokensPerDay : limits.tokensPerMonth }))
      .filter((p): p is typeof p & { limit: number } => p.limit !== null);
  }

  return {
    limitsOf,
    /** Throws token_quota_exceeded (429) when a period is used up. */
    async check(subject: QuotaSubject): Promise<void> {
      const limits = await limitsOf(subject.projectId, subject.environment);
      const at = clock.now();
      const periods = active(limits, at);
      if (periods.length === 0) return;
      let used: number[];
      try {
        used = await store.used(subject, periods.map((p) => p.key));
      } catch (error) {
        // Fails closed like the llm rate-limit class: unmetered requests would run up the provider bill.
        if (isServiceUnavailable(error)) throw limiterUnavailable('Token quota checking', error);
        throw error;
      }
      periods.forEach((p, i) => {
        if (used[i]! >= p.limit) {
          const retryAfterS = Math.max(1, Math.ceil((p.endsAt.getTime() - at.getTime()) / 1000));
          throw new GatehouseError('token_quota_exceeded', {
            message: `The ${p.name === 'day' ? 'daily' : 'monthly'} token quota of this user (${p.limit}) is used up.`,
            retryAfterS,
            details: { period: p.name, limit: p.limit },
          });
        }
      });
    },
    /** Counts tokens in every period, limited or not (a limit set later applies to the running period). */
    async consume(subject: QuotaSubject, tokens: number): Promise<void> {
      await store.add(subject, periodsAt(clock.now()).map((p) => p.key), tokens);
    },
    async setLimits(projectId: string, environment: string, limits: QuotaLimits): Promise<QuotaLimits> {
      const values = { project_id: projectId, environment, tokens_per_day: limits.tokensPerDay, tokens_per_month: limits.tokensPerMonth, updated_at: isoNow(clock) };
      await db.insertInto('llm_quotas').values(values)
        .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet({ tokens_per_day: limits.tokensPerDay, tokens_per_month: limits.tokensPerMonth, updated_at: values.updated_at }))
        .execute();
      cache.delete(`${projectId}/${environment}`);
      return limits;
    },
  };
}

export type QuotaService = ReturnType<typeof createQuotaService>;

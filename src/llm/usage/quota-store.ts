import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { PeriodQuotaStore, PeriodQuotaSubject } from '../../limits/index.js';

/**
 * Token counters per user and period (`day:2026-11-23`, `month:2026-11`): the limits module's one
 * period-quota interface. With Redis it runs over the shared counter store; without, over SQL
 * (below, behind the write-behind buffer), which outlives a restart unlike memory counters.
 */
export type QuotaStore = PeriodQuotaStore;
export type QuotaSubject = PeriodQuotaSubject;

export function createSqlQuotaStore(db: Kysely<Database>): QuotaStore {
  return {
    async used(subject, periods) {
      if (periods.length === 0) return [];
      const rows = await db.selectFrom('llm_quota_counters').select(['period', 'tokens'])
        .where('project_id', '=', subject.projectId).where('environment', '=', subject.environment)
        .where('user_id', '=', subject.userId).where('period', 'in', [...periods])
        .execute();
      const byPeriod = new Map(rows.map((r) => [r.period, Number(r.tokens)]));
      return periods.map((p) => byPeriod.get(p) ?? 0);
    },
    async add(subject, periods, tokens) {
      if (tokens <= 0) return;
      for (const period of periods) {
        // One statement per period: atomic on both engines without a transaction.
        await db.insertInto('llm_quota_counters')
          .values({ project_id: subject.projectId, environment: subject.environment, user_id: subject.userId, period, tokens })
          .onConflict((oc) => oc.columns(['project_id', 'environment', 'user_id', 'period']).doUpdateSet({ tokens: sql`llm_quota_counters.tokens + ${tokens}` }))
          .execute();
      }
    },
  };
}

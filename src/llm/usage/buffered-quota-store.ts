import type { Clock } from '../../shared/clock.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import type { WriteBehind } from '../../shared/write-behind.js';
import type { QuotaStore, QuotaSubject } from './quota-store.js';

interface Counted { subject: QuotaSubject; period: string; tokens: number }

/**
 * Write-behind over a database quota store: every LLM response adds tokens
 * to two periods (day and month), and two upserts per request were the
 * largest cost of a proxied call. Additions are summed in memory and stored
 * by the background writer; totals read from the database are cached for
 * `readCacheMs`, and what this instance has counted but not yet written is
 * added on top, so an instance never under-counts its own traffic. Other
 * instances' tokens show up within the writer's interval + `readCacheMs`
 * (quotas are approximate anyway: a request's tokens are only known after it
 * ran). With Redis the store is shared and atomic, and this buffer is not used.
 */
export function createBufferedQuotaStore(inner: QuotaStore, { writer, clock, readCacheMs = 1000 }: {
  writer: WriteBehind;
  clock: Pick<Clock, 'nowMs'>;
  readCacheMs?: number;
}): QuotaStore & { flush(): Promise<void> } {
  const stored = createTtlCache<number>({ ttlMs: readCacheMs, clock });
  const pending = writer.buffer<Counted>({
    name: 'LLM token counters',
    metricsId: 'token_counters',
    async write(batch) {
      for (const c of batch.values()) await inner.add(c.subject, [c.period], c.tokens);
    },
    // The database now holds these tokens (or lost them, logged): forget the cached totals they
    // would be missing from, in the same tick as they stop counting as `writing`.
    settled(batch) {
      for (const key of batch.keys()) stored.delete(key);
    },
  });
  // NUL cannot occur in ids or period names: the joined key is unambiguous.
  const keyOf = (s: QuotaSubject, period: string) => `${s.projectId}\u0000${s.environment}\u0000${s.userId}\u0000${period}`;

  return {
    async used(subject, periods) {
      const totals = await Promise.all(periods.map(async (period) => {
        const key = keyOf(subject, period);
        let total = stored.get(key);
        if (total === undefined) {
          const since = stored.epoch();
          total = (await inner.used(subject, [period]))[0] ?? 0;
          stored.set(key, total, { since });
        }
        return total + (pending.writing(key)?.tokens ?? 0) + (pending.get(key)?.tokens ?? 0);
      }));
      return totals;
    },
    async add(subject, periods, tokens) {
      if (tokens <= 0) return;
      for (const period of periods) {
        const key = keyOf(subject, period);
        const entry = pending.get(key);
        if (entry) entry.tokens += tokens;
        else pending.put(key, { subject, period, tokens });
      }
    },
    flush: () => pending.flush(),
  };
}

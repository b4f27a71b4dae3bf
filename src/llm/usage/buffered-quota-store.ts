import type { Logger } from 'pino';
import { createTtlCache } from '../../shared/ttl-cache.js';
import type { QuotaStore, QuotaSubject } from './quota-store.js';

interface Counted { subject: QuotaSubject; period: string; tokens: number }

/**
 * Write-behind over a database quota store: every LLM response adds tokens
 * to two periods (day and month), and two upserts per request were the
 * largest cost of a proxied call. Additions are summed in memory and written
 * every `flushMs`; totals read from the database are cached for as long, and
 * what this instance has counted but not yet written is added on top, so an
 * instance never under-counts its own traffic. Other instances' tokens show
 * up within `flushMs` + `readCacheMs` (quotas are approximate anyway: a
 * request's tokens are only known after it ran). With Redis the store is
 * shared and atomic, and this buffer is not used.
 */
export function createBufferedQuotaStore(inner: QuotaStore, { logger, flushMs = 1000, readCacheMs = 1000 }: {
  logger: Pick<Logger, 'error'>;
  flushMs?: number;
  readCacheMs?: number;
}): QuotaStore & { flush(): Promise<void>; close(): Promise<void> } {
  let pending = new Map<string, Counted>();
  /** Written but maybe not yet visible to a read that began before the write. */
  let flushing = new Map<string, Counted>();
  let inFlight: Promise<void> = Promise.resolve();
  const stored = createTtlCache<number>({ ttlMs: readCacheMs });
  // NUL cannot occur in ids or period names: the joined key is unambiguous.
  const keyOf = (s: QuotaSubject, period: string) => `${s.projectId}\u0000${s.environment}\u0000${s.userId}\u0000${period}`;

  async function write(batch: Map<string, Counted>): Promise<void> {
    for (const c of batch.values()) await inner.add(c.subject, [c.period], c.tokens);
  }

  function flush(): Promise<void> {
    if (pending.size === 0) return inFlight;
    const batch = pending;
    pending = new Map();
    inFlight = inFlight.then(async () => {
      flushing = batch;
      try {
        await write(batch);
      } catch (error) {
        logger.error({ err: error }, 'could not store LLM token counters');
      } finally {
        // The database now holds these tokens: forget the cached totals they would be missing from.
        for (const key of batch.keys()) stored.delete(key);
        flushing = new Map();
      }
    });
    return inFlight;
  }

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    async used(subject, periods) {
      const totals = await Promise.all(periods.map(async (period) => {
        const key = keyOf(subject, period);
        let total = stored.get(key);
        if (total === undefined) {
          const since = stored.epoch();
          total = (await inner.used(subject, [period]))[0] ?? 0;
          stored.set(key, total, since);
        }
        return total + (flushing.get(key)?.tokens ?? 0) + (pending.get(key)?.tokens ?? 0);
      }));
      return totals;
    },
    async add(subject, periods, tokens) {
      if (tokens <= 0) return;
      for (const period of periods) {
        const key = keyOf(subject, period);
        const entry = pending.get(key);
        if (entry) entry.tokens += tokens;
        else pending.set(key, { subject, period, tokens });
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { WriteBehind } from '../shared/write-behind.js';
import { createKeyMemo } from '../shared/key-memo.js';

// Per project environment: responses, errors and 429s per minute, and the signed-in users seen
// per five minutes, for the dashboard's charts (GET /admin/v1/stats/series). A response only
// bumps a counter in memory (one Map lookup; a new entry once per environment and minute, or once
// per user and five minutes); the background writer stores the counts in batches, off the hot path.

/** Seconds in one stored request bucket. */
export const STATS_MINUTE = 60;
/** Seconds in one active-users slot: coarser than a minute so a busy environment stores ~12 rows per user per hour, not 60. */
export const ACTIVE_SLOT = 300;
/** Days the rollups are kept; older rows are deleted by the writer, at most once an hour. */
export const STATS_RETENTION_DAYS = 35;
/** Active-user entries waiting to be stored (~100 bytes each): past this, users of the next batch are dropped and counted. */
const ACTIVE_MAX_BYTES = 2_000_000;
const WRITE_BATCH = 200;
const PRUNE_EVERY_MS = 3_600_000;

interface Counts { projectId: string; environment: string; minute: number; requests: number; errors4xx: number; errors5xx: number; rateLimited: number }
interface Seen { projectId: string; environment: string; slot: number; userId: string }
/** A project's latest minute key (a project answers in one environment at a time, mostly). */
interface MinuteKey { environment: string; minute: number; key: string }
/** A user's latest active-users key. */
interface SeenKey { projectId: string; environment: string; slot: number; key: string }
/** Most projects and users whose latest key is kept. */
const KEY_MEMO_MAX = 10_000;

export type RequestMetric = 'requests' | 'errors' | 'rate_limited';

export interface RequestStats {
  /** One response of a caller of this project environment (userId: the signed-in user, if any). */
  record(projectId: string, environment: string, status: number, userId: string | null): void;
  /** Sum of `metric` per bucket of `step` seconds starting at `from` (unix seconds), [from, to). Keys: bucket start. */
  requestSeries(projectId: string, environment: string, metric: RequestMetric, range: SeriesRange): Promise<Map<number, number>>;
  /** Distinct signed-in users per bucket; `step` is a multiple of ACTIVE_SLOT. */
  activeUserSeries(projectId: string, environment: string, range: SeriesRange): Promise<Map<number, number>>;
  flush(): Promise<void>;
}

export interface SeriesRange { from: number; to: number; step: number }

const METRIC_SQL: Record<RequestMetric, string> = {
  requests: 'requests',
  errors: 'errors_4xx + errors_5xx',
  rate_limited: 'rate_limited',
};

export function createRequestStats({ db, writer, clock }: { db: Kysely<Database>; writer: WriteBehind; clock: Clock }): RequestStats {
  let lastPrune = 0;

  const counts = writer.buffer<Counts>({
    name: 'request stats',
    metricsId: 'request_stats',
    async write(batch) {
      const rows = [...batch.values()].map((c) => ({
        project_id: c.projectId, environment: c.environment, minute: c.minute,
        requests: c.requests, errors_4xx: c.errors4xx, errors_5xx: c.errors5xx, rate_limited: c.rateLimited,
      }));
      for (let i = 0; i < rows.length; i += WRITE_BATCH) {
        await db.insertInto('request_stats').values(rows.slice(i, i + WRITE_BATCH))
          .onConflict((oc) => oc.columns(['project_id', 'environment', 'minute']).doUpdateSet({
            requests: sql`request_stats.requests + excluded.requests`,
            errors_4xx: sql`request_stats.errors_4xx + excluded.errors_4xx`,
            errors_5xx: sql`request_stats.errors_5xx + excluded.errors_5xx`,
            rate_limited: sql`request_stats.rate_limited + excluded.rate_limited`,
          })).execute();
      }
      await pruneNowAndThen();
    },
  });

  const active = writer.buffer<Seen>({
    name: 'active users',
    metricsId: 'active_users',
    maxBytes: ACTIVE_MAX_BYTES,
    async write(batch) {
      const rows = [...batch.values()].map((s) => ({ project_id: s.projectId, environment: s.environment, slot: s.slot, user_id: s.userId }));
      for (let i = 0; i < rows.length; i += WRITE_BATCH) {
        await db.insertInto('active_users').values(rows.slice(i, i + WRITE_BATCH)).onConflict((oc) => oc.doNothing()).execute();
      }
    },
  });

  async function pruneNowAndThen(): Promise<void> {
    const now = clock.nowMs();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    const cutoff = Math.floor(now / 1000) - STATS_RETENTION_DAYS * 86_400;
    await db.deleteFrom('request_stats').where('minute', '<', cutoff).execute();
    await db.deleteFrom('active_users').where('slot', '<', cutoff).execute();
  }

  // GROUP BY 1 (the bucket): the same expression written twice would bind its parameters twice,
  // and PostgreSQL would not see them as one expression. The cast: better-sqlite3 binds numbers
  // as REAL, which makes SQLite's division fractional; rows are at or after `from`, so truncating is flooring.
  async function grouped(query: Promise<Array<{ bucket: unknown; value: unknown }>>, range: SeriesRange): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const row of await query) out.set(range.from + Number(row.bucket) * range.step, Number(row.value));
    return out;
  }

  // The buffer keys of the current minute per environment and of the current slot per user, built
  // once per minute (or slot) rather than per response: the lookups then hash strings whose hash
  // V8 has kept. Bounded: past the cap the oldest goes (it is only rebuilt on its next response).
  const minuteKeys = createKeyMemo<MinuteKey>(KEY_MEMO_MAX);
  const seenKeys = createKeyMemo<SeenKey>(KEY_MEMO_MAX);

  return {
    record(projectId, environment, status, userId) {
      const nowSeconds = Math.floor(clock.nowMs() / 1000);
      const minute = nowSeconds - (nowSeconds % STATS_MINUTE);
      let current = minuteKeys.get(projectId);
      if (current === undefined || current.environment !== environment || current.minute !== minute) {
        // NUL cannot occur in ids or environment names, so the joined key is unambiguous.
        current = minuteKeys.set(projectId, { environment, minute, key: `${projectId}\u0000${environment}\u0000${minute}` });
      }
      const key = current.key;
      let entry = counts.get(key);
      if (!entry) {
        entry = { projectId, environment, minute, requests: 0, errors4xx: 0, errors5xx: 0, rateLimited: 0 };
        counts.put(key, entry);
      }
      entry.requests += 1;
      if (status >= 500) entry.errors5xx += 1;
      else if (status >= 400) {
        entry.errors4xx += 1;
        if (status === 429) entry.rateLimited += 1;
      }
      if (userId === null) return;
      const slot = nowSeconds - (nowSeconds % ACTIVE_SLOT);
      let seen = seenKeys.get(userId);
      if (seen === undefined || seen.projectId !== projectId || seen.environment !== environment || seen.slot !== slot) {
        // Per slot, not per minute: a user seen in every minute of a slot is one entry, not five.
        seen = seenKeys.set(userId, { projectId, environment, slot, key: `${projectId}\u0000${environment}\u0000${slot}\u0000${userId}` });
      }
      if (active.get(seen.key) === undefined) active.put(seen.key, { projectId, environment, slot, userId }, 100 + userId.length);
    },

    async requestSeries(projectId, environment, metric, range) {
      await counts.flush();
      // The metric is one of three fixed expressions (never caller text); bounds are bound parameters.
      return grouped(db.selectFrom('request_stats')
        .select([sql<number>`cast((minute - ${range.from}) / ${range.step} as bigint)`.as('bucket'), sql<number>`sum(${sql.raw(METRIC_SQL[metric])})`.as('value')])
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where('minute', '>=', range.from).where('minute', '<', range.to)
        .groupBy(sql`1`)
        .execute(), range);
    },

    async activeUserSeries(projectId, environment, range) {
      await active.flush();
      return grouped(db.selectFrom('active_users')
        .select([sql<number>`cast((slot - ${range.from}) / ${range.step} as bigint)`.as('bucket'), sql<number>`count(distinct user_id)`.as('value')])
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where('slot', '>=', range.from).where('slot', '<', range.to)
        .groupBy(sql`1`)
        .execute(), range);
    },

    async flush() {
      await Promise.all([counts.flush(), active.flush()]);
    },
  };
}

import { ACTIVE_SLOT, STATS_MINUTE, type RequestMetric, type SeriesRange } from '../observability/index.js';
import { invalid, type ActionContext, type OperationsDeps } from './context.js';

export const STATS_METRICS = ['requests', 'errors', 'rate_limited', 'llm_tokens', 'active_users'] as const;
export type StatsMetric = (typeof STATS_METRICS)[number];
/** Points one series may have: a chart is a few hundred pixels wide, and the query stays bounded. */
export const MAX_SERIES_POINTS = 1000;
const MAX_STEP = 86_400;
const DEFAULT_WINDOW = 86_400;
const DEFAULT_STEP = 3600;

export interface SeriesQuery {
  metric: string;
  /** ISO date-times; default: the last 24 hours. */
  from?: string | undefined;
  to?: string | undefined;
  /** Seconds per point: a multiple of 60 (of 300 for active_users), at most a day. Default 3600. */
  step?: number | undefined;
}

export interface Series {
  metric: StatsMetric;
  step: number;
  /** [bucket start in unix seconds, value], every bucket of [from, to), oldest first; 0 where nothing happened. */
  points: Array<[number, number]>;
}

function seconds(field: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalid(field, 'must be an ISO date-time');
  return Math.floor(ms / 1000);
}

/** The range a query asks for, checked and aligned to whole steps since the epoch (stable buckets when a chart refreshes). */
export function seriesRange(query: SeriesQuery, nowSeconds: number): { metric: StatsMetric; range: SeriesRange } {
  if (!(STATS_METRICS as readonly string[]).includes(query.metric)) throw invalid('metric', `must be one of ${STATS_METRICS.join(', ')}`);
  const metric = query.metric as StatsMetric;
  const step = query.step ?? DEFAULT_STEP;
  const grain = metric === 'active_users' ? ACTIVE_SLOT : STATS_MINUTE;
  if (!Number.isInteger(step) || step < grain || step > MAX_STEP || step % grain !== 0) {
    throw invalid('step', `must be a multiple of ${grain} seconds from ${grain} to ${MAX_STEP}${metric === 'active_users' ? ' (active users are counted per five minutes)' : ''}`);
  }
  const to = query.to === undefined ? nowSeconds : seconds('to', query.to);
  const from = query.from === undefined ? to - DEFAULT_WINDOW : seconds('from', query.from);
  if (from >= to) throw invalid('from', 'must be before to');
  const alignedFrom = Math.floor(from / step) * step;
  const alignedTo = Math.ceil(to / step) * step;
  const points = (alignedTo - alignedFrom) / step;
  if (points > MAX_SERIES_POINTS) {
    throw invalid('step', `gives ${points} points from ${query.from ?? 'from'} to ${query.to ?? 'to'}; at most ${MAX_SERIES_POINTS}: use a larger step or a shorter range`);
  }
  return { metric, range: { from: alignedFrom, to: alignedTo, step } };
}

/** The dashboard's charts: reads of the request rollups, LLM usage and active users of the acting environment. */
export function statsOperations(deps: Pick<OperationsDeps, 'stats' | 'llm' | 'clock'>) {
  async function values(ctx: ActionContext, metric: StatsMetric, range: SeriesRange): Promise<Map<number, number>> {
    if (metric === 'active_users') return deps.stats.activeUserSeries(ctx.projectId, ctx.environment, range);
    if (metric !== 'llm_tokens') return deps.stats.requestSeries(ctx.projectId, ctx.environment, metric as RequestMetric, range);
    // Usage is stored per hour: with a step under an hour, an hour's tokens are in the bucket where the hour starts.
    await deps.llm.usage.flush();
    const hours = await deps.llm.usage.tokensPerHour(ctx.projectId, ctx.environment, {
      from: new Date(range.from * 1000).toISOString(), to: new Date(range.to * 1000).toISOString(),
    });
    const out = new Map<number, number>();
    for (const { hour, tokens } of hours) {
      const at = Math.floor(Date.parse(hour) / 1000);
      const bucket = range.from + Math.floor((at - range.from) / range.step) * range.step;
      out.set(bucket, (out.get(bucket) ?? 0) + tokens);
    }
    return out;
  }

  return {
    async series(ctx: ActionContext, query: SeriesQuery): Promise<Series> {
      const { metric, range } = seriesRange(query, Math.floor(deps.clock.nowMs() / 1000));
      const found = await values(ctx, metric, range);
      const points: Array<[number, number]> = [];
      for (let t = range.from; t < range.to; t += range.step) points.push([t, found.get(t) ?? 0]);
      return { metric, step: range.step, points };
    },
  };
}

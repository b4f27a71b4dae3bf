// Prometheus metrics, on a registry of our own (not prom-client's global one), so two apps in one
// process (tests, the benchmark) never share or double-register counters. Labels carry surfaces,
// route patterns, classes, statuses, codes and modes only: never a project, user, key, IP or raw
// URL (unbounded cardinality, and /metrics must not become a directory of tenants). The one label
// a client can influence, the LLM model name, is capped (metrics-llm.ts).
//
// The recorders (http, auth, limits, llm, data) are what the pipeline calls; what they record on
// every request is kept in metrics-fast.ts series (an add, no label hashing). Off
// (GATEHOUSE_METRICS=off) they are no-ops, so the benchmark can measure what recording costs.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastCounter } from './metrics-fast.js';
import { createAuthMetrics, createDataMetrics, createLimitMetrics, type AuthMetrics, type DataMetrics, type LimitMetrics } from './metrics-outcomes.js';
import { createHttpMetrics, type HttpMetrics } from './metrics-http.js';
import { createLlmMetrics, type LlmMetrics } from './metrics-llm.js';
import type { BufferStats } from '../shared/write-behind.js';

export type { BufferStats };

/** A PostgreSQL pool's connections; SQLite has no pool (one connection in the process). */
export interface PoolStats {
  inUse: number;
  idle: number;
  waiting: number;
}

export interface MetricsSources {
  buffers?: () => readonly BufferStats[];
  pool?: () => PoolStats | null;
}

export interface Metrics {
  registry: Registry;
  /** False with GATEHOUSE_METRICS=off: recorders do nothing and GET /metrics is not served. */
  enabled: boolean;
  /** Every response, by route class and status code. */
  requests: FastCounter;
  /** 429s, by route class (`address` for the per-IP pre-check). */
  rateLimited: Counter<'route_class'>;
  /** Limiter decisions the store could not make, by route class and the fail mode applied. */
  limiterStoreErrors: Counter<'route_class' | 'mode'>;
  /** 503s answered because a backing service (database, redis) was down. */
  serviceUnavailable: Counter<'service'>;
  http: HttpMetrics;
  auth: AuthMetrics;
  limits: LimitMetrics;
  llm: LlmMetrics;
  data: DataMetrics;
  /** Registers what is read at scrape time (buffers, pool); called once the deps exist. */
  watch(sources: MetricsSources): void;
}

export interface MetricsOptions {
  /** Default true. */
  enabled?: boolean;
  /** Process and Node metrics (CPU, memory, event-loop lag…). Default true when enabled. */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const enabled = options.enabled ?? true;
  const registry = new Registry();
  // The prefix is prom-client's name with ours in front: `gatehouse_process_cpu_seconds_total`,
  // `gatehouse_nodejs_eventloop_lag_p99_seconds`. (A prefix of `gatehouse_process_` doubled the
  // process ones into `gatehouse_process_process_…`.)
  if (enabled && (options.defaultMetrics ?? true)) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const requests = new FastCounter(registry, {
    name: 'gatehouse_http_requests_total',
    help: 'HTTP responses by route class and status code.',
    labelNames: ['route_class', 'status'],
  });
  return {
    registry,
    enabled,
    requests,
    rateLimited: new Counter({
      name: 'gatehouse_rate_limited_total',
      help: 'Requests refused with 429 by the rate limiter, by route class (address = per-IP pre-check).',
      labelNames: ['route_class'] as const,
      registers: [registry],
    }),
    limiterStoreErrors: new Counter({
      name: 'gatehouse_rate_limit_store_errors_total',
      help: 'Rate-limit decisions the store (Redis) could not make, by route class and the fail mode applied (open: let through, closed: 503).',
      labelNames: ['route_class', 'mode'] as const,
      registers: [registry],
    }),
    serviceUnavailable: new Counter({
      name: 'gatehouse_service_unavailable_total',
      help: 'Requests answered 503 because a backing service was down, by service (database, redis).',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    http: createHttpMetrics(registry, requests),
    auth: createAuthMetrics(registry, enabled),
    limits: createLimitMetrics(registry, enabled),
    llm: createLlmMetrics(registry, enabled),
    data: createDataMetrics(registry, enabled),
    watch(sources) {
      if (enabled) watchSources(registry, sources);
    },
  };
}

/** Gauges and counters read at scrape time: nothing runs per request. */
function watchSources(registry: Registry, { buffers, pool }: MetricsSources): void {
  if (buffers) {
    new Gauge({
      name: 'gatehouse_buffer_depth',
      help: 'Entries waiting in a write-behind buffer to be stored, by buffer.',
      labelNames: ['buffer'] as const,
      registers: [registry],
      collect() {
        for (const b of buffers()) this.set({ buffer: b.buffer }, b.depth);
      },
    });
    // The buffers keep their own running totals; a scrape adds what was dropped since the last one.
    const seen = new Map<string, number>();
    new Counter({
      name: 'gatehouse_buffer_dropped_total',
      help: 'Entries a write-behind buffer lost (over its memory bound, or in a batch the database refused), by buffer.',
      labelNames: ['buffer'] as const,
      registers: [registry],
      collect() {
        for (const b of buffers()) {
          this.inc({ buffer: b.buffer }, b.droppedTotal - (seen.get(b.buffer) ?? 0));
          seen.set(b.buffer, b.droppedTotal);
        }
      },
    });
  }
  if (pool) {
    new Gauge({
      name: 'gatehouse_db_pool_connections',
      help: 'PostgreSQL pool connections by state (in_use, idle, waiting = queries queued for a connection). Absent on SQLite.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const stats = pool();
        if (!stats) return;
        this.set({ state: 'in_use' }, stats.inUse);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }
}

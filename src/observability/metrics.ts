// Prometheus metrics, on a registry of our own (not prom-client's global one), so two apps in one
// process (tests, the benchmark) never share or double-register counters. Labels carry route
// classes, statuses and modes only: never a project, user, key or IP (unbounded cardinality, and
// /metrics must not become a directory of tenants).
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Every response, by route class and status code. */
  requests: Counter<'route_class' | 'status'>;
  /** 429s, by route class (`address` for the per-IP pre-check). */
  rateLimited: Counter<'route_class'>;
  /** Limiter decisions the store could not make, by route class and the fail mode applied. */
  limiterStoreErrors: Counter<'route_class' | 'mode'>;
  /** 503s answered because a backing service (database, redis) was down. */
  serviceUnavailable: Counter<'service'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_process_' });
  return {
    registry,
    requests: new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP responses by route class and status code.',
      labelNames: ['route_class', 'status'] as const,
      registers: [registry],
    }),
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
  };
}

// Counters of decisions: auth outcomes, rate-limit decisions, data rows. Their label values are
// codes and classes from fixed tables.
import type { Registry } from 'prom-client';
import { FastCounter, type CounterSeries } from './metrics-fast.js';

const AUTH_KINDS = ['sign_in', 'sign_up', 'refresh', 'user_token', 'api_key', 'external_token'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

export interface AuthMetrics {
  /**
   * One credential checked. `reason` is `ok` for a success, else a stable code: the error code
   * (`invalid_credentials`), or `api_key_<why>` / `token_<why>` for a refused key or token.
   */
  outcome(kind: AuthKind, reason: string): void;
}

export interface LimitMetrics {
  /** One limiter check (the per-address pre-check has route class and tier `address`). */
  decision(routeClass: string, tier: string, allowed: boolean): void;
}

export type RowOperation = 'read' | 'inserted' | 'updated' | 'deleted';

export interface DataMetrics {
  /** Rows a /rest request read or wrote. */
  rows(operation: RowOperation, count: number): void;
}

// Metrics off: each recorder is a no-op chosen once here, not a check on every call.

export function createAuthMetrics(registry: Registry, enabled: boolean): AuthMetrics {
  if (!enabled) return { outcome() {} };
  const counter = new FastCounter(registry, {
    name: 'gatehouse_auth_outcomes_total',
    help: 'Credentials checked, by kind (sign_in, sign_up, refresh, user_token, api_key, external_token), outcome and reason code.',
    labelNames: ['kind', 'outcome', 'reason'],
  });
  // Successes are most calls (every keyed request, every user token): bound at start, and shown
  // as 0 from the first scrape, so a rate() over them exists before the first event.
  const ok = {} as Record<AuthKind, CounterSeries>;
  for (const kind of AUTH_KINDS) ok[kind] = counter.series(kind, 'success', 'ok');
  return {
    outcome(kind, reason) {
      if (reason === 'ok') ok[kind].inc();
      else counter.series(kind, 'failure', reason).inc();
    },
  };
}

export function createLimitMetrics(registry: Registry, enabled: boolean): LimitMetrics {
  if (!enabled) return { decision() {} };
  const counter = new FastCounter(registry, {
    name: 'gatehouse_rate_limit_decisions_total',
    help: 'Rate-limit checks by route class, tier and decision (allowed, refused). A store outage counts as its fail mode decided.',
    labelNames: ['route_class', 'tier', 'decision'],
  });
  return {
    decision(routeClass, tier, allowed) {
      counter.series(routeClass, tier, allowed ? 'allowed' : 'refused').inc();
    },
  };
}

export function createDataMetrics(registry: Registry, enabled: boolean): DataMetrics {
  if (!enabled) return { rows() {} };
  const counter = new FastCounter(registry, {
    name: 'gatehouse_data_rows_total',
    help: 'Rows the data API (/rest/v1) read, inserted, updated or deleted.',
    labelNames: ['operation'],
  });
  return {
    rows(operation, count) {
      if (count > 0) counter.series(operation).inc(count);
    },
  };
}

// Counters of decisions: auth outcomes, rate-limit decisions, data rows. Their label values are
// codes and classes from fixed tables, so each label set is bound once and kept.
import { Counter, type Registry } from 'prom-client';

export type AuthKind = 'sign_in' | 'sign_up' | 'refresh' | 'user_token' | 'api_key' | 'external_token';

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

/**
 * A metric's child for a label set, bound on first use and kept: the hot path is one string
 * concatenation and one Map lookup, no allocation (prom-client otherwise sorts and hashes a label
 * object on every call). Only for label values from fixed tables or capped sets: the Map grows
 * with them. Up to three labels.
 */
export function boundChildren<C>(metric: { labels(labels: Record<string, string>): C }, labelNames: readonly string[]): (a: string, b?: string, c?: string) => C {
  if (labelNames.length < 1 || labelNames.length > 3) throw new TypeError('boundChildren: one to three labels');
  const bound = new Map<string, C>();
  return (a, b = '', c = '') => {
    const key = `${a}\u0000${b}\u0000${c}`;
    let child = bound.get(key);
    if (child === undefined) {
      const values = [a, b, c];
      const labels: Record<string, string> = {};
      labelNames.forEach((name, i) => {
        labels[name] = values[i]!;
      });
      child = metric.labels(labels);
      bound.set(key, child);
    }
    return child;
  };
}

export function createAuthMetrics(registry: Registry, enabled: boolean): AuthMetrics {
  const labelNames = ['kind', 'outcome', 'reason'] as const;
  const child = boundChildren(new Counter({
    name: 'gatehouse_auth_outcomes_total',
    help: 'Credentials checked, by kind (sign_in, sign_up, refresh, user_token, api_key, external_token), outcome and reason code.',
    labelNames,
    registers: [registry],
  }), labelNames);
  return {
    outcome(kind, reason) {
      if (enabled) child(kind, reason === 'ok' ? 'success' : 'failure', reason).inc();
    },
  };
}

export function createLimitMetrics(registry: Registry, enabled: boolean): LimitMetrics {
  const labelNames = ['route_class', 'tier', 'decision'] as const;
  const child = boundChildren(new Counter({
    name: 'gatehouse_rate_limit_decisions_total',
    help: 'Rate-limit checks by route class, tier and decision (allowed, refused). A store outage counts as its fail mode decided.',
    labelNames,
    registers: [registry],
  }), labelNames);
  return {
    decision(routeClass, tier, allowed) {
      if (enabled) child(routeClass, tier, allowed ? 'allowed' : 'refused').inc();
    },
  };
}

export function createDataMetrics(registry: Registry, enabled: boolean): DataMetrics {
  const labelNames = ['operation'] as const;
  const child = boundChildren(new Counter({
    name: 'gatehouse_data_rows_total',
    help: 'Rows the data API (/rest/v1) read, inserted, updated or deleted.',
    labelNames,
    registers: [registry],
  }), labelNames);
  return {
    rows(operation, count) {
      if (enabled && count > 0) child(operation).inc(count);
    },
  };
}

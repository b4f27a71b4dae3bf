// LLM proxy metrics: the upstream exchange (latency, time to first byte, errors by kind), open
// streams, and tokens by provider and model.
//
// `provider` is a built-in provider's name or `custom` (the proxy maps it): a project names its
// own providers, and those names are tenant data. `model` comes from the provider's answer, which
// echoes what the caller asked for (and a custom provider may echo anything): the first
// MAX_MODELS distinct names a process sees keep their own series, later ones and any name that
// does not look like a model id count as `other`. Without the cap one caller looping over
// invented model names would create series without end, and exhaust Prometheus' memory first.
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { FastCounter, FastGauge, FastHistogram } from './metrics-fast.js';
import { statusClass } from './metrics-http.js';

export const MAX_MODELS = 100;
const MODEL_ID = /^[A-Za-z0-9][\w.:/@-]{0,99}$/;

/** connect: never reached; timeout: connect, headers or body idle; reset: the connection broke;
 * aborted: the caller left, so we cut it; status_4xx/5xx: the provider refused or failed. */
export type UpstreamErrorKind = 'connect' | 'timeout' | 'reset' | 'aborted' | 'status_4xx' | 'status_5xx' | 'other';

export interface LlmMetrics {
  /** False when metrics are off: the proxy then attaches no listeners for them. */
  active: boolean;
  /** The start of an upstream exchange, for headers() and finished(). */
  start(): number;
  /** The provider's response headers arrived (its first byte). */
  headers(provider: string, startMs: number): void;
  /** The exchange ended (body read or closed); status null: no response came. */
  finished(provider: string, status: number | null, startMs: number): void;
  error(provider: string, kind: UpstreamErrorKind): void;
  tokens(provider: string, model: string | null, input: number, output: number): void;
  streamOpened(provider: string): void;
  streamClosed(provider: string): void;
}

/** Seconds. An exchange can be a minutes-long stream; a first byte usually comes within seconds. */
const EXCHANGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const TTFB_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createLlmMetrics(registry: Registry, enabled: boolean): LlmMetrics {
  const exchange = new FastHistogram(registry, {
    name: 'gatehouse_llm_upstream_duration_seconds',
    help: 'Whole upstream exchange (request sent to response body ended), by provider and upstream status class (error: no response).',
    labelNames: ['provider', 'status_class'],
    buckets: EXCHANGE_BUCKETS,
  });
  const ttfb = new FastHistogram(registry, {
    name: 'gatehouse_llm_upstream_ttfb_seconds',
    help: 'Time from the upstream request sent to the provider\'s response headers, by provider.',
    labelNames: ['provider'],
    buckets: TTFB_BUCKETS,
  });
  const tokens = new FastCounter(registry, {
    name: 'gatehouse_llm_tokens_total',
    help: `Tokens counted, by provider, model (the first ${MAX_MODELS} distinct per process, then "other") and direction (input, output).`,
    labelNames: ['provider', 'model', 'direction'],
  });
  const streams = new FastGauge(registry, {
    name: 'gatehouse_llm_streams_open',
    help: 'Event streams being relayed from a provider right now, by provider.',
    labelNames: ['provider'],
  });
  const errors = new FastCounter(registry, {
    name: 'gatehouse_llm_upstream_errors_total',
    help: 'Upstream exchanges that failed, by provider and kind (connect, timeout, reset, aborted, status_4xx, status_5xx, other).',
    labelNames: ['provider', 'kind'],
  });
  const models = new Set<string>();
  const modelLabel = (model: string | null): string => {
    if (model === null) return 'unknown';
    if (models.has(model)) return model;
    if (models.size >= MAX_MODELS || !MODEL_ID.test(model)) return 'other';
    models.add(model);
    return model;
  };

  if (!enabled) {
    const nothing = () => {};
    return { active: false, start: () => 0, headers: nothing, finished: nothing, error: nothing, tokens: nothing, streamOpened: nothing, streamClosed: nothing };
  }
  return {
    active: true,
    start: () => performance.now(),
    headers(provider, startMs) {
      ttfb.series(provider).observe((performance.now() - startMs) / 1000);
    },
    finished(provider, status, startMs) {
      exchange.series(provider, status === null ? 'error' : statusClass(status)).observe((performance.now() - startMs) / 1000);
    },
    error(provider, kind) {
      errors.series(provider, kind).inc();
    },
    tokens(provider, model, input, output) {
      const label = modelLabel(model);
      if (input > 0) tokens.series(provider, label, 'input').inc(input);
      if (output > 0) tokens.series(provider, label, 'output').inc(output);
    },
    streamOpened(provider) {
      streams.series(provider).inc();
    },
    streamClosed(provider) {
      streams.series(provider).dec();
    },
  };
}

// Per-response metrics: the response counter, the duration histogram, and the outcome of the auth
// routes that declare one (sign-in, sign-up, refresh). One onResponse hook for all of them.
//
// Labels are the route's pattern (`/rest/v1/:table`, never the URL), its surface, a method from a
// fixed list and a status class: bounded by the routes the app registers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { routeInfo } from '../http/route-info.js';
import { FastHistogram, type CounterSeries, type FastCounter, type HistogramSeries } from './metrics-fast.js';
import type { AuthMetrics } from './metrics-outcomes.js';

/** Seconds. From a fast cache hit to a long LLM stream. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Anything else (Node accepts some 30 methods) is one label value, `other`. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'];
const OTHER = METHODS.length - 1;
const METHOD_INDEX: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, Object.fromEntries(METHODS.slice(0, OTHER).map((m, i) => [m, i])));
const STATUS_CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statusClass(status: number): string {
  return STATUS_CLASSES[Math.trunc(status / 100)] ?? '5xx';
}

export interface HttpMetrics {
  /** onResponse: `surfaceOf` names the surface of a path no route matched. */
  responseStage(surfaceOf: (path: string) => string, auth: AuthMetrics): (request: FastifyRequest, reply: FastifyReply) => void;
}

// The error code a failed request was answered with (set by the one error handler), for the
// reason label of an auth route's outcome.
const FAILURE = Symbol('gatehouse.failureCode');
type WithFailure = FastifyRequest & { [FAILURE]?: string };

export function noteFailure(request: FastifyRequest, code: string): void {
  (request as WithFailure)[FAILURE] = code;
}

interface Bound {
  count: CounterSeries;
  duration: HistogramSeries;
}

// Only built when metrics are on: app.ts adds no response hook otherwise.
export function createHttpMetrics(registry: Registry, requests: FastCounter): HttpMetrics {
  const duration = new FastHistogram(registry, {
    name: 'gatehouse_http_request_duration_seconds',
    help: 'Time from request received to response sent, by surface, route pattern (or unmatched), method and status class.',
    labelNames: ['surface', 'route', 'method', 'status_class'],
    buckets: DURATION_BUCKETS,
  });
  // Per route (its config object, one per route), the series of each method and status seen:
  // a response costs one property read and one Map lookup on a number.
  const perRoute = new WeakMap<object, Map<number, Bound>>();
  const unmatched = new Map<string, Map<number, Bound>>();
  return {
    responseStage(surfaceOf, auth) {
      return function recordResponse(request: FastifyRequest, reply: FastifyReply): void {
        const info = routeInfo(request);
        const status = reply.statusCode;
        const methodIndex = METHOD_INDEX[request.method] ?? OTHER;
        let bySurface: string | undefined;
        let series: Map<number, Bound> | undefined;
        if (info.url) {
          series = perRoute.get(info.config);
          if (!series) perRoute.set(info.config, (series = new Map()));
        } else {
          bySurface = surfaceOf(request.url);
          series = unmatched.get(bySurface);
          if (!series) unmatched.set(bySurface, (series = new Map()));
        }
        const key = status * 16 + methodIndex;
        let bound = series.get(key);
        if (!bound) {
          const surface = bySurface ?? info.config.surface?.name ?? 'ops';
          bound = {
            count: requests.series(info.url ? (info.config.routeClass ?? 'default') : 'unmatched', String(status)),
            duration: duration.series(surface, info.url ?? 'unmatched', METHODS[methodIndex]!, statusClass(status)),
          };
          series.set(key, bound);
        }
        bound.count.inc();
        bound.duration.observe(reply.elapsedTime / 1000);
        // An auth route's outcome, once the caller's key was accepted (a bad key is counted as such by identify).
        const kind = info.config.authOutcome;
        if (kind && request.caller) {
          const named = typeof kind === 'function' ? kind(request) : kind;
          if (named) auth.outcome(named, status < 400 ? 'ok' : ((request as WithFailure)[FAILURE] ?? 'unknown'));
        }
      };
    },
  };
}

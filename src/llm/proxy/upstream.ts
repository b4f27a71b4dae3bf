import type { Dispatcher, Pool } from 'undici';
import { loadUndici } from '../../shared/load-undici.js';
import { GatehouseError } from '../../errors/index.js';
import type { UpstreamErrorKind } from '../../observability/index.js';
import { maskSecretText } from './secret-mask.js';

// One keep-alive pool per provider origin, shared by every project that uses
// that origin. undici never retries a request on its own (no RetryAgent
// here), so a POST that reached the provider is never sent twice.
//
// Sized for long-lived streams (issue 18): over HTTP/1.1 a stream holds its connection until its
// last event, so the pool allows thousands of connections (pipelining 1: a request never waits
// behind another's stream on the same connection). To an https origin that offers HTTP/2 (ALPN),
// one connection carries up to MAX_H2_STREAMS streams instead. What bounds the requests in flight
// is admission.ts, counted before undici, whose own queue is silent and unbounded.

/** Per-origin settings (config `llm.origins` over the `llm` defaults). */
export interface OriginSettings {
  connections: number;
  http2: boolean;
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  settings(origin: string): OriginSettings;
}

/** Streams per HTTP/2 connection before undici opens another (most providers allow 100). */
const MAX_H2_STREAMS = 100;

export function createUpstreams(options: UpstreamOptions) {
  const pools = new Map<string, Pool>();
  function poolFor(origin: string, { Pool }: Awaited<ReturnType<typeof loadUndici>>): Pool {
    let pool = pools.get(origin);
    if (!pool) {
      const settings = options.settings(origin);
      pool = new Pool(origin, {
        connections: settings.connections,
        pipelining: 1,
        // HTTP/2 is negotiated in TLS: a plain http origin (a local model server) stays on 1.1.
        allowH2: settings.http2 && origin.startsWith('https:'),
        maxConcurrentStreams: MAX_H2_STREAMS,
        connectTimeout: options.connectTimeoutMs,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyIdleTimeoutMs,
        keepAliveTimeout: 30_000,
      });
      pools.set(origin, pool);
    }
    return pool;
  }
  return {
    /** Sends one request to the origin through its pool (undici's `Pool.request`). */
    async request(origin: string, request: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
      // undici is about a third of the server bundle: it loads with the first upstream request, not
      // at start (issue 18, start-up); loadUndici keeps it, so later requests wait on nothing but a resolved promise.
      return poolFor(origin, await loadUndici()).request(request);
    },
    async close(): Promise<void> {
      await Promise.allSettled([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;

/**
 * Request headers that may reach the provider. Everything else stays here:
 * the caller's key and token (Authorization, apikey, x-api-key), cookies,
 * Origin, forwarding headers, and OpenAI-Organization / OpenAI-Project, which
 * would let a caller pick another organization the provider key can reach.
 */
const REQUEST_HEADERS = [
  'content-type', 'content-length', 'accept',
  'openai-beta', 'idempotency-key',
  'anthropic-version', 'anthropic-beta',
  'x-goog-upload-protocol',
] as const;

/**
 * Response headers that may reach the caller. Dropped among others:
 * openai-organization / openai-project (account names), the provider's rate
 * limit headers (account limits), set-cookie and CDN headers.
 */
const RESPONSE_HEADERS = ['content-type', 'content-disposition', 'cache-control', 'retry-after'] as const;

// Both walk the short allowlist rather than every header present: fewer
// lookups and no entry arrays, on every proxied request. Header names arrive
// lower-cased from Node's parser and from undici.
export function upstreamRequestHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string> {
  return pick(incoming, REQUEST_HEADERS);
}

/** The relayed response headers, with the provider key masked should the provider echo it (secret-mask.ts). */
export function downstreamHeaders(incoming: Dispatcher.ResponseData['headers'], secret: string | null): Record<string, string> {
  const out = pick(incoming, RESPONSE_HEADERS);
  if (secret !== null) for (const name in out) out[name] = maskSecretText(out[name]!, secret);
  return out;
}

function pick(incoming: Record<string, string | string[] | undefined>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = incoming[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  // undici's timeout errors carry these codes (matched by code, not class, so undici can load lazily).
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT';
}

/** Refused before a connection existed: the provider (or its DNS name) cannot be reached at all. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** An open connection broke: the provider (or something between) closed it mid-exchange. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * A transport failure's kind for metrics (a dead provider, a slow one and a flaky path need
 * different alerts). `aborted` is the caller's doing and is decided by the proxy, which knows the
 * caller left; a body Gatehouse itself destroyed (an answer it would not relay) is `other`.
 */
export function upstreamErrorKind(error: unknown): UpstreamErrorKind {
  if (isTimeout(error)) return 'timeout';
  const code = (error as { code?: string } | null)?.code ?? '';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (RESET_CODES.has(code)) return 'reset';
  return 'other';
}

/** A transport failure as the client should see it: 504 for timeouts, 502 otherwise. */
export function upstreamError(error: unknown, provider: string): GatehouseError {
  if (isTimeout(error)) {
    return new GatehouseError('upstream_timeout', { message: `The provider ${provider} did not answer in time.`, cause: error });
  }
  return new GatehouseError('upstream_failed', { message: `The provider ${provider} could not be reached or broke the connection.`, cause: error });
}

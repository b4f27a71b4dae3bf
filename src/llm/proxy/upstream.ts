import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { GatehouseError } from '../../errors/index.js';

// One keep-alive pool per provider origin, shared by every project that uses
// that origin. undici never retries a request on its own (no RetryAgent
// here), so a POST that reached the provider is never sent twice.

export interface UpstreamOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  connectionsPerOrigin: number;
}

export function createUpstreams(options: UpstreamOptions) {
  const pools = new Map<string, Pool>();
  return {
    pool(origin: string): Pool {
      let pool = pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, {
          connections: options.connectionsPerOrigin,
          connectTimeout: options.connectTimeoutMs,
          headersTimeout: options.headersTimeoutMs,
          bodyTimeout: options.bodyIdleTimeoutMs,
          keepAliveTimeout: 30_000,
        });
        pools.set(origin, pool);
      }
      return pool;
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
const REQUEST_HEADERS = new Set([
  'content-type', 'content-length', 'accept',
  'openai-beta', 'idempotency-key',
  'anthropic-version', 'anthropic-beta',
  'x-goog-upload-protocol',
]);

/**
 * Response headers that may reach the caller. Dropped among others:
 * openai-organization / openai-project (account names), the provider's rate
 * limit headers (account limits), set-cookie and CDN headers.
 */
const RESPONSE_HEADERS = new Set(['content-type', 'content-disposition', 'cache-control', 'retry-after']);

export function upstreamRequestHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (!REQUEST_HEADERS.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function downstreamHeaders(incoming: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (!RESPONSE_HEADERS.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A transport failure as the client should see it: 504 for timeouts, 502 otherwise. */
export function upstreamError(error: unknown, provider: string): GatehouseError {
  const code = (error as { code?: string } | null)?.code;
  if (
    error instanceof undiciErrors.ConnectTimeoutError || error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT'
  ) {
    return new GatehouseError('upstream_timeout', { message: `The provider ${provider} did not answer in time.`, cause: error });
  }
  return new GatehouseError('upstream_failed', { message: `The provider ${provider} could not be reached or broke the connection.`, cause: error });
}

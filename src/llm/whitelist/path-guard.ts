import { GatehouseError } from '../../errors/index.js';

// The provider path is checked on the raw request target, before any routing
// or decoding could normalise a trick into an allowed-looking path: a proxy
// that decodes `%2e%2e%2f` or collapses `//` after the allowlist check would
// forward `/v1/files/../organization/...` upstream (CWE-22, CWE-177).

/** Characters a provider path may hold (RFC 3986 pchar minus %, plus /). */
const SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A `.` or `..` segment anywhere in a path. */
const DOT_SEGMENT = /\/\.{1,2}(?:\/|$)/;
const PREFIX = '/llm/';

export interface GuardedTarget {
  provider: string;
  /** The path as the provider sees it, e.g. /v1/chat/completions. */
  path: string;
  /** Raw query string without the leading ?, or ''. */
  query: string;
}

function refuse(why: string): never {
  throw new GatehouseError('bad_request', { message: `The request path is not allowed: ${why}.` });
}

/** Splits `/llm/<provider>/<path>?<query>` and refuses anything ambiguous. */
export function guardTarget(rawUrl: string): GuardedTarget {
  if (!rawUrl.startsWith(PREFIX)) refuse('it must be an absolute path under /llm/');
  const q = rawUrl.indexOf('?');
  let rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  if (rawPath.includes('\\')) refuse('backslashes are not allowed');
  if (rawPath.includes('%')) {
    // Gemini SDKs may encode the colon of `models/x:generateContent`; nothing else may be encoded.
    rawPath = rawPath.replace(/%3a/gi, ':');
    if (rawPath.includes('%')) refuse('percent-encoding is not allowed in the path');
  }
  if (!SAFE_PATH.test(rawPath)) refuse('it contains characters outside RFC 3986');
  // Checked on the whole path at once (every segment is non-empty and not a dot segment),
  // without splitting it: this runs on every proxied request.
  if (rawPath.includes('//') || rawPath.endsWith('/')) refuse('empty segments (// or a trailing /) are not allowed');
  if (DOT_SEGMENT.test(rawPath)) refuse('dot segments are not allowed');
  const slash = rawPath.indexOf('/', PREFIX.length);
  const provider = slash === -1 ? rawPath.slice(PREFIX.length) : rawPath.slice(PREFIX.length, slash);
  if (!PROVIDER_NAME.test(provider)) refuse('unknown provider name');
  if (slash === -1) refuse('no provider path');
  if (query.length > 4096 || /[\s\\#]/.test(query)) refuse('the query string is malformed');
  return { provider, path: rawPath.slice(slash), query };
}

/**
 * The query forwarded upstream: the caller's parameters minus `key` (Gemini
 * reads its API key from the query; only the server sets credentials).
 */
export function upstreamQuery(query: string): string {
  if (query === '') return '';
  const params = new URLSearchParams(query);
  params.delete('key');
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

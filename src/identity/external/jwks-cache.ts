import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../shared/clock.js';
import { loadUndici } from '../../shared/load-undici.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import { TokenRejected } from '../jwt/index.js';

export interface JwksCacheOptions {
  /** Milliseconds a fetched set is used without refetching. */
  ttlMs: number;
  /** Milliseconds between two fetches of one URL caused by unknown kids (DoS guard). */
  refetchIntervalMs: number;
  clock: Pick<Clock, 'nowMs'>;
  /** Milliseconds for the whole fetch. */
  timeoutMs?: number;
}

export interface JwksCache {
  /** A jose key resolver over the cached set; refetches once on an unknown kid, at most once per interval. */
  resolver(url: string): JWTVerifyGetKey;
  /** Drops a URL (issuer removed or changed). */
  forget(url: string): void;
}

interface Entry {
  set: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

/** A JWKS larger than this is not a key set. */
const MAX_JWKS_BYTES = 256 * 1024;

async function fetchJwks(url: string, timeoutMs: number): Promise<JSONWebKeySet> {
  // undici's request() does not follow redirects: a JWKS URL cannot be bounced elsewhere.
  // headersTimeout/bodyTimeout are per-gap timers, so a server trickling a byte at a time
  // would never trip them; the abort signal is the deadline for the whole fetch.
  const signal = AbortSignal.timeout(timeoutMs);
  const { request } = await loadUndici();
  const response = await request(url, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal });
  if (response.statusCode !== 200) {
    await response.body.dump().catch(() => undefined);
    throw new Error(`JWKS fetch: HTTP ${response.statusCode}`);
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_JWKS_BYTES) {
    response.body.destroy();
    throw new Error('JWKS fetch: body too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_JWKS_BYTES) {
      response.body.destroy();
      throw new Error('JWKS fetch: body too large');
    }
    chunks.push(chunk as Buffer);
  }
  const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as JSONWebKeySet;
  if (!parsed || !Array.isArray(parsed.keys)) throw new Error('JWKS fetch: not a JWK set');
  // Private or symmetric members have no business in a published set; drop them rather than trust them.
  return { keys: parsed.keys.filter((k) => k && (k.kty === 'RSA' || k.kty === 'EC' || k.kty === 'OKP') && k.d === undefined) };
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const { ttlMs, refetchIntervalMs, clock, timeoutMs = 5000 } = options;
  const now = () => clock.nowMs();
  // The last good set per URL, in a plain Map rather than the TTL cache: past its TTL it is still
  // the fallback while the issuer is down (a TTL cache would drop it). The URLs are the configured
  // issuers', so the map stays small.
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();
  // URLs fetched within the refetch interval: an unknown kid does not fetch them again.
  const attempted = createTtlCache<true>({ ttlMs: refetchIntervalMs, clock });
  // URLs whose last fetch failed within the interval: with no good set to fall back on, requests
  // fail fast instead of each one waiting out a dead issuer's timeout.
  const failed = createTtlCache<true>({ ttlMs: refetchIntervalMs, clock });

  function load(url: string): Promise<Entry> {
    let pending = inflight.get(url);
    if (!pending) {
      attempted.set(url, true);
      pending = fetchJwks(url, timeoutMs)
        .then((jwks) => {
          const entry = { set: createLocalJWKSet(jwks), fetchedAt: now() };
          entries.set(url, entry);
          failed.delete(url);
          return entry;
        }, (error: unknown) => {
          failed.set(url, true);
          throw error;
        })
        .finally(() => inflight.delete(url));
      inflight.set(url, pending);
    }
    return pending;
  }

  async function current(url: string): Promise<Entry> {
    const entry = entries.get(url);
    if (entry && now() - entry.fetchedAt < ttlMs) return entry;
    if (!entry && failed.get(url)) throw new TokenRejected('issuer_unavailable');
    try {
      return await load(url);
    } catch {
      // The issuer is down: keep using the last good set rather than locking everyone out.
      if (entry) return entry;
      throw new TokenRejected('issuer_unavailable');
    }
  }

  return {
    resolver(url) {
      return async (header, token) => {
        const entry = await current(url);
        try {
          return await entry.set(header, token);
        } catch (error) {
          if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
          // Unknown kid: maybe the issuer rotated. Refetch, but not more than once per interval,
          // or a stream of made-up kids would turn us into a request amplifier against the issuer.
          if (attempted.get(url)) throw new TokenRejected('unknown_key');
          let fresh: Entry;
          try {
            fresh = await load(url);
          } catch {
            throw new TokenRejected('unknown_key');
          }
          return fresh.set(header, token);
        }
      };
    },
    forget(url) {
      entries.delete(url);
      attempted.delete(url);
      failed.delete(url);
    },
  };
}

import type { Keyring } from '../../crypto/index.js';
import { GatehouseError } from '../../errors/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import {
  checkEndpointChanges, effectiveEndpoints, type EndpointPattern, type ProviderKind,
} from '../whitelist/index.js';
import { BUILT_IN, checkBaseUrl, isProviderKind, PROVIDER_NAME, splitBaseUrl } from './catalog.js';
import type { ProviderRow, ProviderStore } from './store.js';
import { createTtlCache, KEEP_WARM_MS } from '../../shared/ttl-cache.js';

/** What the proxy needs per request; holds the decrypted key, so it never leaves memory. */
export interface ResolvedProvider {
  name: string;
  kind: ProviderKind;
  origin: string;
  basePath: string;
  endpoints: EndpointPattern[];
  apiKey: string | null;
}

/** What admins see: never the key, only its last four characters. */
export interface ProviderSummary {
  name: string;
  kind: ProviderKind;
  base_url: string;
  has_key: boolean;
  key_last_four: string | null;
  enabled: boolean;
  endpoints_add: string[];
  endpoints_remove: string[];
  created_at: string;
  updated_at: string;
}

export interface ProviderInput {
  kind?: ProviderKind;
  baseUrl?: string;
  /** A new key; null removes the key (local providers need none). A new base URL without one drops the stored key. */
  apiKey?: string | null;
  endpointsAdd?: string[];
  endpointsRemove?: string[];
  enabled?: boolean;
}

export interface ProviderServiceOptions {
  store: ProviderStore;
  keyring: Keyring;
  clock: Clock;
  /** Milliseconds a resolved provider (and its decrypted key) is reused. */
  cacheMs: number;
}

const scopeOf = (projectId: string, environment: string) => `${projectId}/${environment}`;
const contextOf = (name: string) => `provider_key:${name}`;

export function createProviderService({ store, keyring, clock, cacheMs }: ProviderServiceOptions) {
  // Decrypting on every request would cost an AEAD open and a data-key lookup;
  // a short cache bounds how long a changed key takes to apply on other instances. Kept warm
  // (ttl-cache.ts): a provider in use is read again before it expires, off the request path.
  const cache = createTtlCache<Promise<ResolvedProvider | null>>({ ttlMs: cacheMs, clock, keepWarmMs: KEEP_WARM_MS });
  const cacheKey = (p: string, e: string, n: string) => `${p}\u0000${e}\u0000${n}`;

  async function load(projectId: string, environment: string, name: string): Promise<ResolvedProvider | null> {
    const row = await store.get(projectId, environment, name);
    if (!row || !row.enabled || !isProviderKind(row.kind)) return null;
    const apiKey = row.key_ciphertext === null ? null : await keyring.decryptString(scopeOf(projectId, environment), row.key_ciphertext, contextOf(name));
    const { origin, basePath } = splitBaseUrl(row.base_url);
    return {
      name, kind: row.kind, origin, basePath, apiKey,
      endpoints: effectiveEndpoints(row.kind, { add: parseList(row.endpoints_add), remove: parseList(row.endpoints_remove) }),
    };
  }

  function invalidate(projectId: string, environment: string, name: string): void {
    cache.delete(cacheKey(projectId, environment, name));
  }

  return {
    resolve(projectId: string, environment: string, name: string): Promise<ResolvedProvider | null> {
      return cache.getOrLoad(cacheKey(projectId, environment, name), () => load(projectId, environment, name));
    },

    async list(projectId: string, environment: string): Promise<ProviderSummary[]> {
      return (await store.list(projectId, environment)).map(toSummary);
    },

    async get(projectId: string, environment: string, name: string): Promise<ProviderSummary | null> {
      const row = await store.get(projectId, environment, name);
      return row ? toSummary(row) : null;
    },

    /** Creates or changes a provider; the key is sealed before it touches the database. */
    async put(projectId: string, environment: string, name: string, input: ProviderInput): Promise<ProviderSummary> {
      if (!PROVIDER_NAME.test(name)) throw invalid('name', 'must be lowercase letters, digits and -, starting with a letter (max 32)');
      const existing = await store.get(projectId, environment, name);
      const builtIn = BUILT_IN[name];
      const kind = builtIn?.kind ?? input.kind ?? (existing?.kind as ProviderKind | undefined) ?? 'openai';
      if (builtIn && input.kind && input.kind !== builtIn.kind) throw invalid('kind', `${name} always speaks the ${builtIn.kind} format`);
      if (!builtIn && (name.startsWith('anthropic') || name.startsWith('gemini'))) {
        // Error shapes are chosen by URL prefix (errors/surfaces.ts): such a name would answer in the wrong dialect.
        throw invalid('name', 'names starting with anthropic or gemini are reserved');
      }
      const baseUrl = input.baseUrl ?? existing?.base_url ?? builtIn?.baseUrl;
      if (!baseUrl) throw invalid('base_url', 'is required for an OpenAI-compatible provider');
      const urlProblem = checkBaseUrl(baseUrl);
      if (urlProblem) throw invalid('base_url', urlProblem);
      const add = input.endpointsAdd ?? parseList(existing?.endpoints_add);
      const remove = input.endpointsRemove ?? parseList(existing?.endpoints_remove);
      const problems = checkEndpointChanges(kind, { add, remove });
      if (problems.length > 0) throw new GatehouseError('validation_failed', { message: problems[0], details: problems.map((p) => ({ field: 'endpoints', problem: p })) });

      const now = isoNow(clock);
      const normalizedUrl = baseUrl.replace(/\/+$/, '');
      // The stored key was given for the host it was given with. Whoever may change base_url
      // (an admin user, a key with admin:providers) may not thereby send it elsewhere: a new
      // base_url drops the key unless the same request brings one.
      const keepKey = existing !== undefined && existing.base_url === normalizedUrl;
      const row: ProviderRow = {
        project_id: projectId, environment, name, kind, base_url: normalizedUrl,
        key_ciphertext: keepKey ? existing.key_ciphertext : null, key_last_four: keepKey ? existing.key_last_four : null,
        endpoints_add: JSON.stringify(add), endpoints_remove: JSON.stringify(remove),
        enabled: input.enabled === undefined ? (existing?.enabled ?? 1) : input.enabled ? 1 : 0,
        created_at: existing?.created_at ?? now, updated_at: now,
      };
      if (input.apiKey === null) {
        row.key_ciphertext = null;
        row.key_last_four = null;
      } else if (input.apiKey !== undefined) {
        if (input.apiKey.length < 8 || input.apiKey.length > 4096 || /\s/.test(input.apiKey)) throw invalid('api_key', 'must be 8 to 4096 characters without spaces');
        row.key_ciphertext = await keyring.encrypt(scopeOf(projectId, environment), input.apiKey, contextOf(name));
        row.key_last_four = input.apiKey.slice(-4);
      }
      if (existing) await store.update(projectId, environment, name, row);
      else await store.insert(row);
      invalidate(projectId, environment, name);
      return toSummary(row);
    },

    async remove(projectId: string, environment: string, name: string): Promise<boolean> {
      const removed = await store.remove(projectId, environment, name);
      invalidate(projectId, environment, name);
      return removed;
    },
  };
}

export type ProviderService = ReturnType<typeof createProviderService>;

function invalid(field: string, problem: string): GatehouseError {
  return new GatehouseError('validation_failed', { message: `${field} ${problem}.`, details: [{ field, problem }] });
}

function parseList(text: string | undefined): string[] {
  if (!text) return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toSummary(row: ProviderRow): ProviderSummary {
  return {
    name: row.name, kind: row.kind as ProviderKind, base_url: row.base_url,
    has_key: row.key_ciphertext !== null, key_last_four: row.key_last_four, enabled: Boolean(Number(row.enabled)),
    endpoints_add: parseList(row.endpoints_add), endpoints_remove: parseList(row.endpoints_remove),
    created_at: row.created_at, updated_at: row.updated_at,
  };
}

import { GatehouseError } from '../../errors/index.js';
import type { Environment } from '../../tenancy/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { createTtlCache, KEEP_WARM_MS, type Reload } from '../../shared/ttl-cache.js';
import { generateApiKey, hashApiKey, parseApiKey, type KeyKind, type ParsedKey } from './format.js';
import { ApiKeyRejected, validateScope, type CallerKey, type KeyRejection } from '../../access/index.js';
import type { ApiKeyRow, ApiKeyStore } from './store.js';

/** What a request learns from a valid key (the access layer's caller key). */
export type VerifiedKey = CallerKey;

/** What lists show: never the key or its hash. */
export interface ApiKeySummary {
  id: string;
  name: string;
  kind: KeyKind;
  environment: Environment;
  /** e.g. `pk_dev_…Ab3x` */
  display: string;
  scopes: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  replacedBy: string | null;
  /** `key:<id>`, `user:<id>`, `cli`, or null (made at init or before creators were recorded). */
  createdBy: string | null;
  /** `suspended`: made by an admin user who is no longer one; it works again only if they are made admin again. */
  status: 'active' | 'expiring' | 'expired' | 'revoked' | 'suspended';
}

export interface CreateKeyInput {
  projectId: string;
  environment: Environment;
  kind: KeyKind;
  name?: string;
  scopes?: string[] | null;
  expiresAt?: string | null;
  /** Who makes it: `key:<id>`, `user:<id>` or `cli`. A key made by a user lives only as long as that user's admin role. */
  createdBy?: string | null;
}

export { ApiKeyRejected, type KeyRejection };

export interface ApiKeyServiceDeps {
  store: ApiKeyStore;
  clock: Clock;
  /** How long a lookup stays cached; ≤ 1000 so a revoked key stops within a second everywhere. */
  cacheTtlMs: number;
  rotationGraceSeconds: number;
  /**
   * Whether a user is an admin of this project environment right now. A key an admin user made
   * is only as good as that user's role: without this check it would outlive a demotion or a
   * deletion just because it was copied. Absent: such keys are refused (fail closed).
   */
  isAdminUser?: (projectId: string, environment: string, userId: string) => Promise<boolean>;
  /**
   * Whether a dashboard operator still holds owner or admin in this project right now: a key an
   * operator made stops when that operator is removed or demoted, like a user's. Passed in (the
   * identity layer does not import the operators). Absent: such keys are refused (fail closed).
   */
  isKeyOperator?: (projectId: string, operatorId: string) => Promise<boolean>;
}

interface CacheEntry {
  row: ApiKeyRow;
  /** The row's expires_at in epoch ms (Infinity when none): the hot path compares numbers, not ISO strings. */
  expiresAtMs: number;
  /** Set once the row has passed every check: later hits skip parsing, checksum and JSON (frozen: shared by requests). */
  verified?: VerifiedKey;
}

const TOUCH_INTERVAL_MS = 60_000;
const MAX_CACHE_ENTRIES = 50_000;

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

const USER_CREATOR = 'user:';
const OPERATOR_CREATOR = 'operator:';

export function createApiKeyService({ store, clock, cacheTtlMs, rotationGraceSeconds, isAdminUser = async () => false, isKeyOperator = async () => false }: ApiKeyServiceDeps) {
  // Hot cache by the presented key's text: hashing it would cost more than the
  // whole cached check, and the clear key sits in this process's memory anyway
  // (in the request that carried it); only the hash is ever stored. A Map
  // compares strings only once their hashes match, so lookups leak no prefix
  // timing. Bounded TTL
  // (not invalidation messages) bounds revocation delay across instances;
  // local revokes also evict at once.
  // local revokes also evict at once. Kept warm (ttl-cache.ts): a key in use is read and checked
  // again in the background before its entry expires, so a request after a quiet spell does not
  // wait for the database; the entry is never older than the TTL either way.
  const cache = createTtlCache<CacheEntry>({ ttlMs: cacheTtlMs, maxEntries: MAX_CACHE_ENTRIES, clock, keepWarmMs: KEEP_WARM_MS });
  // Keys whose last_used_at was written within the interval (one more ms: written again only once it has passed).
  const touched = createTtlCache<true>({ ttlMs: TOUCH_INTERVAL_MS + 1, maxEntries: MAX_CACHE_ENTRIES, clock });

  /**
   * A key made by a user: only a publishable one (a user never had a secret key's power, so a
   * secret key it made, before that was refused, counts for nothing), and only while the user
   * is still an admin. A key made by a dashboard operator: only while the operator is still owner
   * or admin of the project.
   */
  async function creatorLostPower(row: ApiKeyRow): Promise<boolean> {
    if (row.created_by?.startsWith(OPERATOR_CREATOR)) {
      return !(await isKeyOperator(row.project_id, row.created_by.slice(OPERATOR_CREATOR.length)));
    }
    if (!row.created_by?.startsWith(USER_CREATOR)) return false;
    if (row.kind !== 'publishable') return true;
    return !(await isAdminUser(row.project_id, row.environment, row.created_by.slice(USER_CREATOR.length)));
  }

  function summarize(row: ApiKeyRow, nowIso: string, suspended = false): ApiKeySummary {
    const expired = row.expires_at !== null && row.expires_at <= nowIso;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      environment: row.environment as Environment,
      display: `${row.prefix}…${row.last_four}`,
      scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      replacedBy: row.replaced_by,
      createdBy: row.created_by,
      status: row.revoked_at ? 'revoked' : expired ? 'expired' : suspended ? 'suspended' : row.expires_at ? 'expiring' : 'active',
    };
  }

  function checkInput(input: CreateKeyInput, nowIso: string): void {
    for (const [i, scope] of (input.scopes ?? []).entries()) {
      const problem = validateScope(scope);
      if (problem) throw new GatehouseError('validation_failed', { message: `scopes[${i}]: ${problem}`, details: [{ field: `scopes/${i}`, problem }] });
    }
    if (input.expiresAt != null && !(new Date(input.expiresAt).toISOString() > nowIso)) {
      throw new GatehouseError('validation_failed', { message: 'expires_at: must be in the future', details: [{ field: 'expires_at', problem: 'in the past' }] });
    }
  }

  async function insertKey(s: ApiKeyStore, input: CreateKeyInput, nowIso: string) {
    const generated = generateApiKey(input.kind, input.environment, input.projectId);
    const row: ApiKeyRow = {
      id: newId('key'),
      project_id: input.projectId,
      environment: input.environment,
      kind: input.kind,
      name: input.name ?? `${input.kind} key`,
      key_hash: generated.hash,
      prefix: generated.prefix,
      last_four: generated.lastFour,
      scopes: input.scopes == null ? null : JSON.stringify([...new Set(input.scopes)]),
      created_at: nowIso,
      last_used_at: null,
      expires_at: input.expiresAt == null ? null : new Date(input.expiresAt).toISOString(),
      revoked_at: null,
      replaced_by: null,
      created_by: input.createdBy ?? null,
    };
    await s.insert(row);
    return { key: generated.key, summary: summarize(row, nowIso) };
  }

  /** last_used_at is advisory: written at most once a minute per key, off the request path. */
  function touch(id: string, nowMs: number): void {
    if (touched.get(id)) return;
    touched.set(id, true);
    store.touch(id, new Date(nowMs).toISOString()).catch(() => touched.delete(id));
  }

  function evictById(id: string): void {
    cache.deleteWhere((entry) => entry.row.id === id);
  }

  async function lookup(presented: string): Promise<ApiKeyRow | undefined> {
    const hit = cache.get(presented);
    if (hit) return hit.row;
    // A revocation while the query runs must not put the pre-revocation row back.
    const since = cache.epoch();
    const row = await store.findByHash(hashApiKey(presented));
    if (row) cache.set(presented, entryOf(row), { since, reload: () => reload(presented) });
    return row;
  }

  function entryOf(row: ApiKeyRow): CacheEntry {
    return { row, expiresAtMs: row.expires_at ? Date.parse(row.expires_at) : Number.POSITIVE_INFINITY };
  }

  /**
   * Keep-warm: the row read again and put through every check, as a request would (minus the
   * last_used_at touch, which only a request earns). A key that fails now is kept unverified, so
   * the next request runs the checks itself and is refused with the reason.
   */
  function reload(presented: string): ReturnType<Reload<CacheEntry>> {
    return store.findByHash(hashApiKey(presented)).then(async (row) => {
      if (!row) return undefined;
      const entry = entryOf(row);
      const parsed = parseApiKey(presented);
      if (parsed !== 'malformed' && parsed !== 'checksum') entry.verified = await check(parsed, row, clock.nowMs()).catch(() => undefined);
      return { value: entry };
    });
  }

  /** Every check a key's row must pass (the key already parsed); the caller's view of it, frozen. */
  async function check(parsed: ParsedKey, row: ApiKeyRow, nowMs: number): Promise<VerifiedKey> {
    // The hash already binds the key to its row; re-checking the claimed
    // project, environment and kind is defence in depth against a bad row.
    if (row.project_id !== parsed.projectId || row.environment !== parsed.environment || row.kind !== parsed.kind) {
      throw new ApiKeyRejected('mismatch');
    }
    const nowIso = new Date(nowMs).toISOString();
    if (row.revoked_at) throw new ApiKeyRejected('revoked');
    if (row.expires_at && row.expires_at <= nowIso) throw new ApiKeyRejected('expired');
    // Re-asked at most once per cache TTL, like revocation: a demotion stops the key within a second.
    if (await creatorLostPower(row)) throw new ApiKeyRejected('creator_lost_power');
    return Object.freeze({
      id: row.id,
      kind: row.kind,
      projectId: row.project_id,
      environment: row.environment as Environment,
      scopes: row.scopes === null ? null : Object.freeze(JSON.parse(row.scopes) as string[]),
    });
  }

  /** Hot path, synchronous: this exact key passed every check of `verify` within the cache TTL. */
  function knownKey(presented: string): VerifiedKey | undefined {
    const hit = cache.get(presented);
    if (!hit?.verified) return undefined;
    const nowMs = clock.nowMs();
    if (nowMs >= hit.expiresAtMs) return undefined;
    touch(hit.row.id, nowMs);
    return hit.verified;
  }

  return {
    /** Creates a key; the clear key is returned here once and never again. */
    async create(input: CreateKeyInput): Promise<{ key: string; summary: ApiKeySummary }> {
      const nowIso = isoNow(clock);
      checkInput(input, nowIso);
      return insertKey(store, input, nowIso);
    },

    async list(projectId: string, environment: Environment): Promise<ApiKeySummary[]> {
      const nowIso = isoNow(clock);
      const rows = await store.list(projectId, environment);
      return Promise.all(rows.map(async (r) => summarize(r, nowIso, await creatorLostPower(r))));
    },

    async get(projectId: string, environment: Environment, id: string): Promise<ApiKeySummary | null> {
      const row = await store.findInEnvironment(projectId, environment, id);
      return row ? summarize(row, isoNow(clock), await creatorLostPower(row)) : null;
    },

    async revoke(projectId: string, environment: Environment, id: string): Promise<ApiKeySummary> {
      const row = await store.findInEnvironment(projectId, environment, id);
      if (!row) throw new GatehouseError('not_found', { message: 'No such key in this project environment.' });
      const nowIso = isoNow(clock);
      await store.revoke(id, nowIso);
      evictById(id);
      return summarize({ ...row, revoked_at: row.revoked_at ?? nowIso }, nowIso);
    },

    /**
     * Issues a successor with the same kind, name and scopes; the old key keeps
     * working for the grace period so deployed clients can switch without downtime.
     * The successor is made by whoever rotates (`createdBy`): they hold its clear text now.
     */
    async rotate(projectId: string, environment: Environment, id: string, graceSeconds = rotationGraceSeconds, createdBy: string | null = null) {
      const nowIso = isoNow(clock);
      return store.transaction(async (s) => {
        const old = await s.findInEnvironment(projectId, environment, id);
        if (!old || old.revoked_at || (old.expires_at && old.expires_at <= nowIso)) {
          throw new GatehouseError('not_found', { message: 'No active key with this id in this project environment.' });
        }
        const created = await insertKey(s, {
          projectId, environment, kind: old.kind, name: old.name,
          scopes: old.scopes === null ? null : (JSON.parse(old.scopes) as string[]), createdBy,
        }, nowIso);
        const graceEnd = new Date(clock.nowMs() + graceSeconds * 1000).toISOString();
        const oldEnd = old.expires_at && old.expires_at < graceEnd ? old.expires_at : graceEnd;
        await s.markRotated(old.id, created.summary.id, oldEnd);
        evictById(old.id);
        return { ...created, previous: summarize({ ...old, expires_at: oldEnd, replaced_by: created.summary.id }, nowIso) };
      });
    },

    known: knownKey,

    /**
     * Resolves a presented key. The format and checksum are checked offline
     * first so typos and garbage never reach the database.
     */
    async verify(presented: string): Promise<VerifiedKey> {
      const known = knownKey(presented);
      if (known) return known;
      const nowMs = clock.nowMs();
      const parsed = parseApiKey(presented);
      if (parsed === 'malformed' || parsed === 'checksum') throw new ApiKeyRejected(parsed);
      const row = await lookup(presented);
      if (!row) throw new ApiKeyRejected('unknown');
      const verified = await check(parsed, row, nowMs);
      touch(row.id, nowMs);
      const entry = cache.get(presented);
      if (entry?.row === row) entry.verified = verified;
      return verified;
    },
  };
}

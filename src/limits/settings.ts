// Per project environment rate-limit settings: the config file's policy, changed per environment
// by a stored patch, plus per-user and per-key overrides. Written by the admin API and the CLI,
// read by every instance on every limited request through a short cache:
//   - TTL 1 s: a change made on one instance (or by the CLI) applies everywhere within a second,
//     without a restart and without a pub/sub channel;
//   - the instance that made the change drops its entry at once (invalidate), so the admin who
//     just raised a limit sees it on the next request.
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GatehouseError } from '../errors/index.js';
import {
  limitsConfigErrors, OVERRIDE_SUBJECT_PATTERN, ROUTE_CLASSES, SubjectOverrideSchema, TIERS, validateLimitsConfig, WindowsSchema,
  type ClassPolicy, type LimitsConfig, type RouteClass,
} from './policy.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { createTtlCache, KEEP_WARM_MS } from '../shared/ttl-cache.js';
import type { LimitSettingsStore } from './settings-store.js';

const ClassPatchSchema = Type.Object(
  {
    failMode: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    tiers: Type.Optional(
      Type.Object(
        { guest: Type.Optional(WindowsSchema), user: Type.Optional(WindowsSchema), admin: Type.Optional(WindowsSchema) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Changes to the config file's class policies for one environment; what is absent is inherited. */
export const LimitsPolicyPatchSchema = Type.Object(
  Object.fromEntries(ROUTE_CLASSES.map((rc) => [rc, Type.Optional(ClassPatchSchema)])) as Record<RouteClass, TOptional<typeof ClassPatchSchema>>,
  { additionalProperties: false },
);
export type LimitsPolicyPatch = Static<typeof LimitsPolicyPatchSchema>;
export type SubjectOverride = Static<typeof SubjectOverrideSchema>;

export const OverrideSubjectSchema = Type.String({ pattern: OVERRIDE_SUBJECT_PATTERN, maxLength: 205 });

/** Each override is held in every instance's cache: keep the set small (raise a tier instead). */
export const MAX_OVERRIDES_PER_ENVIRONMENT = 10_000;

export interface OverrideEntry {
  subject: string;
  limits: SubjectOverride;
  updatedAt: string;
  updatedBy: string;
}

export interface LimitSettings {
  /** The config that applies to this environment now (cached ≤ cacheTtlMs). */
  effective(projectId: string, environment: string): Promise<LimitsConfig>;
  /** effective, without a promise round once the cached read has arrived (the request path). */
  effectiveNow(projectId: string, environment: string): LimitsConfig | Promise<LimitsConfig>;
  getPolicy(projectId: string, environment: string): Promise<{ patch: LimitsPolicyPatch; updatedAt: string; updatedBy: string } | null>;
  /** Replaces the environment's patch. Throws validation_failed when the result is not a valid policy. */
  setPolicy(projectId: string, environment: string, patch: LimitsPolicyPatch, actor: string): Promise<LimitsConfig>;
  clearPolicy(projectId: string, environment: string): Promise<boolean>;
  listOverrides(projectId: string, environment: string): Promise<OverrideEntry[]>;
  setOverride(projectId: string, environment: string, subject: string, limits: SubjectOverride, actor: string): Promise<OverrideEntry>;
  removeOverride(projectId: string, environment: string, subject: string): Promise<boolean>;
  /** Drop this instance's cached entry (after a change here); other instances follow within the TTL. */
  invalidate(projectId: string, environment: string): void;
}

export interface LimitSettingsOptions {
  store: LimitSettingsStore;
  /** The config file's `rateLimits`, validated (validateLimitsConfig). */
  base: LimitsConfig;
  /** ms an environment's effective config is cached. Default 1000. */
  cacheTtlMs?: number;
  clock: Clock;
  /** A stored row that no longer validates (hand-edited database): logged, and the base applies. */
  onInvalidStored: (projectId: string, environment: string, problems: string[]) => void;
}

/** The base config with one environment's patch and overrides applied (not validated). */
export function applyLimitSettings(base: LimitsConfig, patch: LimitsPolicyPatch, overrides: Record<string, SubjectOverride>): LimitsConfig {
  const classes = { ...base.classes };
  for (const rc of ROUTE_CLASSES) {
    const change = patch[rc];
    if (!change) continue;
    const current = base.classes[rc];
    const tiers = { ...current.tiers };
    for (const tier of TIERS) {
      const windows = change.tiers?.[tier];
      if (windows) tiers[tier] = windows;
    }
    classes[rc] = { failMode: change.failMode ?? current.failMode, tiers } satisfies ClassPolicy;
  }
  return { ...base, classes, overrides: { ...base.overrides, ...overrides } };
}

const CACHE_MAX_ENTRIES = 10_000;

export function createLimitSettings(options: LimitSettingsOptions): LimitSettings {
  const { store, base, clock, onInvalidStored } = options;
  // A promise per environment: 400 concurrent requests at expiry make one query pair, and a change
  // made here evicts the entry, so a load that began before it cannot put the older read back.
  // Kept warm (ttl-cache.ts): settings in use are read again before they expire, off the request path.
  const cache = createTtlCache<Promise<LimitsConfig>>({ ttlMs: options.cacheTtlMs ?? 1000, maxEntries: CACHE_MAX_ENTRIES, clock, keepWarmMs: KEEP_WARM_MS });
  // What each cached read resolved to, so the request path can take it without awaiting: the same
  // value `effective` gives, under the same expiry and invalidation (the cache holds the promise).
  const arrived = new WeakMap<Promise<LimitsConfig>, LimitsConfig>();
  const now = () => isoNow(clock);
  const cacheKey = (projectId: string, environment: string) => `${projectId}/${environment}`;

  async function readStored(projectId: string, environment: string) {
    const [policy, overrides] = await Promise.all([store.getPolicy(projectId, environment), store.listOverrides(projectId, environment)]);
    return {
      patch: policy ? (JSON.parse(policy.policy) as LimitsPolicyPatch) : {},
      overrides: Object.fromEntries(overrides.map((o) => [o.subject, JSON.parse(o.limits) as SubjectOverride])),
    };
  }

  async function load(projectId: string, environment: string): Promise<LimitsConfig> {
    const stored = await readStored(projectId, environment);
    const merged = applyLimitSettings(base, stored.patch, stored.overrides);
    const problems = limitsConfigErrors(merged);
    if (problems.length === 0) return validateLimitsConfig(merged);
    onInvalidStored(projectId, environment, problems);
    return base;
  }

  function validated(config: LimitsConfig): LimitsConfig {
    const problems = limitsConfigErrors(config);
    if (problems.length > 0) {
      throw new GatehouseError('validation_failed', { message: 'The rate-limit settings are not valid.', details: { problems: problems.slice(0, 20) } });
    }
    return validateLimitsConfig(config);
  }

  const service: LimitSettings = {
    effective(projectId, environment) {
      return cache.getOrLoad(cacheKey(projectId, environment), () => {
        const read = load(projectId, environment);
        read.then((config) => arrived.set(read, config), () => {});
        return read;
      });
    },

    effectiveNow(projectId, environment) {
      const read = service.effective(projectId, environment);
      return arrived.get(read) ?? read;
    },

    async getPolicy(projectId, environment) {
      const row = await store.getPolicy(projectId, environment);
      return row ? { patch: JSON.parse(row.policy) as LimitsPolicyPatch, updatedAt: row.updatedAt, updatedBy: row.updatedBy } : null;
    },

    async setPolicy(projectId, environment, patch, actor) {
      if (!Value.Check(LimitsPolicyPatchSchema, patch)) {
        const problems = [...Value.Errors(LimitsPolicyPatchSchema, patch)].map((e) => `${e.path || '/'}: ${e.message}`);
        throw new GatehouseError('validation_failed', { message: 'The rate-limit policy is not valid.', details: { problems: problems.slice(0, 20) } });
      }
      const stored = await readStored(projectId, environment);
      const config = validated(applyLimitSettings(base, patch, stored.overrides));
      await store.putPolicy(projectId, environment, { policy: JSON.stringify(patch), updatedAt: now(), updatedBy: actor });
      service.invalidate(projectId, environment);
      return config;
    },

    async clearPolicy(projectId, environment) {
      const removed = await store.deletePolicy(projectId, environment);
      service.invalidate(projectId, environment);
      return removed;
    },

    async listOverrides(projectId, environment) {
      return (await store.listOverrides(projectId, environment)).map((o) => ({
        subject: o.subject, limits: JSON.parse(o.limits) as SubjectOverride, updatedAt: o.updatedAt, updatedBy: o.updatedBy,
      }));
    },

    async setOverride(projectId, environment, subject, limits, actor) {
      if (!Value.Check(OverrideSubjectSchema, subject)) {
        throw new GatehouseError('validation_failed', { message: 'The subject must be user:<id> or key:<id>.', details: { field: 'subject' } });
      }
      const stored = await readStored(projectId, environment);
      if (!Object.hasOwn(stored.overrides, subject) && Object.keys(stored.overrides).length >= MAX_OVERRIDES_PER_ENVIRONMENT) {
        throw new GatehouseError('conflict', { message: `An environment holds at most ${MAX_OVERRIDES_PER_ENVIRONMENT} overrides; raise a tier instead.` });
      }
      validated(applyLimitSettings(base, stored.patch, { ...stored.overrides, [subject]: limits }));
      const entry: OverrideEntry = { subject, limits, updatedAt: now(), updatedBy: actor };
      await store.putOverride(projectId, environment, { subject, limits: JSON.stringify(limits), updatedAt: entry.updatedAt, updatedBy: actor });
      service.invalidate(projectId, environment);
      return entry;
    },

    async removeOverride(projectId, environment, subject) {
      const removed = await store.deleteOverride(projectId, environment, subject);
      service.invalidate(projectId, environment);
      return removed;
    },

    invalidate(projectId, environment) {
      cache.delete(cacheKey(projectId, environment));
    },
  };
  return service;
}

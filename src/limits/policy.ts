// Rate-limit policy: which windows apply to a request, independent of any store.
//
// The policy's shape and defaults are the `rateLimits` setting, owned by config/ (config/rate-limits.ts);
// they are re-exported here so that limits/ stays the one place its callers import them from.
import { Value } from '@sinclair/typebox/value';
import {
  DEFAULT_ADDRESS_POLICY, LimitsConfigSchema, ROUTE_CLASSES, TIERS,
  type FailMode, type LimitsConfig, type RouteClass, type Tier, type Window,
} from '../config/index.js';
import { deepFreeze } from '../shared/deep-freeze.js';

export {
  AddressPolicySchema, ClassPolicySchema, DEFAULT_ADDRESS_POLICY, DEFAULT_LIMITS, LimitsConfigSchema, LimitsFileSchema, MAX_WINDOWS_PER_POLICY,
  OVERRIDE_SUBJECT_PATTERN, ROUTE_CLASSES, SubjectOverrideSchema, TIERS, WindowSchema, WindowsSchema,
  type AddressPolicy, type ClassPolicy, type FailMode, type LimitsConfig, type RouteClass, type Tier, type Window,
} from '../config/index.js';

export interface RoutePolicy {
  windows: Window[];
  failMode: FailMode;
}

/**
 * Every problem with a candidate config, as `path: problem` lines (empty when valid), so the admin
 * API can answer 400 with details and the config loader can refuse to start.
 */
export function limitsConfigErrors(value: unknown): string[] {
  const errors = [...Value.Errors(LimitsConfigSchema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (errors.length > 0) return errors;
  const config = value as LimitsConfig;
  const lists: Array<[string, Window[]]> = [];
  for (const rc of ROUTE_CLASSES) {
    for (const tier of TIERS) lists.push([`/classes/${rc}/tiers/${tier}`, config.classes[rc].tiers[tier]]);
  }
  if (config.address) lists.push(['/address/windows', config.address.windows]);
  for (const [subject, override] of Object.entries(config.overrides)) {
    for (const rc of ROUTE_CLASSES) {
      const windows = override[rc];
      if (windows) lists.push([`/overrides/${subject}/${rc}`, windows]);
    }
  }
  // Counters are keyed by window length, so two windows of the same length would share one
  // counter and each request would be counted twice.
  for (const [path, windows] of lists) {
    const lengths = new Set(windows.map((w) => w.windowMs));
    if (lengths.size !== windows.length) errors.push(`${path}: two windows have the same windowMs`);
  }
  return errors;
}

/** Validates, then returns a deep-frozen copy. Throws TypeError: a bad limits config is our own misconfiguration. */
export function validateLimitsConfig(value: unknown): LimitsConfig {
  const errors = limitsConfigErrors(value);
  if (errors.length > 0) throw new TypeError(`invalid limits config:\n  ${errors.slice(0, 20).join('\n  ')}`);
  return deepFreeze(structuredClone(value as LimitsConfig));
}

/**
 * The windows and fail mode for one request. `subject` is `user:<id>`, `key:<id>` or `ip:<addr>`.
 * `overrideIds`, when given, replaces [subject] as the ids whose overrides apply, first match wins:
 * a guest counted by IP under a publishable key still gets that key's override.
 */
export function resolvePolicy(
  config: LimitsConfig,
  request: { routeClass: RouteClass; tier: Tier; subject?: string | undefined; overrideIds?: readonly string[] | undefined },
): RoutePolicy {
  const policy = config.classes[request.routeClass];
  const ids = request.overrideIds ?? (request.subject === undefined ? [] : [request.subject]);
  let override: Window[] | undefined;
  for (const id of ids) {
    // Object.hasOwn: a subject such as `key:__proto__` must not reach Object.prototype.
    override = Object.hasOwn(config.overrides, id) ? config.overrides[id]?.[request.routeClass] : undefined;
    if (override) break;
  }
  return { windows: override ?? policy.tiers[request.tier], failMode: policy.failMode };
}

export function resolveAddressPolicy(config: LimitsConfig): RoutePolicy {
  const address = config.address ?? DEFAULT_ADDRESS_POLICY;
  return { windows: address.windows, failMode: address.failMode };
}


/** A config's class policies as ready objects, built once per config (see policyOf). */
interface PolicyTable {
  classes: Record<RouteClass, Record<Tier, RoutePolicy>>;
  address: RoutePolicy;
  hasOverrides: boolean;
}

const TABLES = new WeakMap<LimitsConfig, PolicyTable>();

/**
 * The policy table of a validated config. A validated config is deep-frozen (validateLimitsConfig)
 * and every change (admin API, settings reload) makes a new one, so a table keyed by the config
 * object can never go stale; it goes with its config. An unfrozen config (hand-built in a test)
 * gets no table: it could be changed in place.
 */
function tableOf(config: LimitsConfig): PolicyTable | undefined {
  let table = TABLES.get(config);
  if (table === undefined) {
    if (!Object.isFrozen(config)) return undefined;
    const classes = {} as Record<RouteClass, Record<Tier, RoutePolicy>>;
    for (const rc of ROUTE_CLASSES) {
      const policy = config.classes[rc];
      const tiers = {} as Record<Tier, RoutePolicy>;
      for (const tier of TIERS) tiers[tier] = Object.freeze({ windows: policy.tiers[tier], failMode: policy.failMode });
      classes[rc] = tiers;
    }
    table = { classes, address: Object.freeze(resolveAddressPolicy(config)), hasOverrides: Object.keys(config.overrides).length > 0 };
    TABLES.set(config, table);
  }
  return table;
}

/**
 * resolvePolicy for the request path: the same answer, without building it per request. The
 * returned object is shared (frozen): read it, never change it.
 */
export function policyOf(config: LimitsConfig, routeClass: RouteClass, tier: Tier, overrideIds: readonly string[]): RoutePolicy {
  const table = tableOf(config);
  if (table === undefined) return resolvePolicy(config, { routeClass, tier, overrideIds });
  const policy = table.classes[routeClass][tier];
  if (!table.hasOverrides) return policy;
  for (const id of overrideIds) {
    // Object.hasOwn: a subject such as `key:__proto__` must not reach Object.prototype.
    const override = Object.hasOwn(config.overrides, id) ? config.overrides[id]?.[routeClass] : undefined;
    if (override) return { windows: override, failMode: policy.failMode };
  }
  return policy;
}

/** resolveAddressPolicy for the request path (see policyOf). */
export function addressPolicyOf(config: LimitsConfig): RoutePolicy {
  return tableOf(config)?.address ?? resolveAddressPolicy(config);
}

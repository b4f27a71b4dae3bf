// Public surface of src/limits: import from here, never from a file inside.
export {
  DEFAULT_ADDRESS_POLICY,
  DEFAULT_LIMITS,
  AddressPolicySchema,
  LimitsConfigSchema,
  LimitsFileSchema,
  OVERRIDE_SUBJECT_PATTERN,
  ClassPolicySchema,
  SubjectOverrideSchema,
  WindowSchema,
  WindowsSchema,
  MAX_WINDOWS_PER_POLICY,
  ROUTE_CLASSES,
  TIERS,
  limitsConfigErrors,
  resolveAddressPolicy,
  resolvePolicy,
  validateLimitsConfig,
  type AddressPolicy,
  type ClassPolicy,
  type FailMode,
  type LimitsConfig,
  type RouteClass,
  type RoutePolicy,
  type Tier,
  type Window,
} from './policy.js';
export { normaliseIp, resolveSubject, subjectKey, type Subject, type SubjectInput } from './subject.js';
export {
  counterStoreUnavailable, type AttemptState, type AttemptStore, type CounterStore, type Decision, type LimiterStore, type QuotaCounter, type WindowState,
} from './store.js';
export { limiterUnavailable } from './unavailable.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
// The Redis store is not re-exported: importing it loads ioredis, which only open-store.ts may do, on demand.
export type { RedisStoreOptions } from './redis-store.js';
export { ADDRESS_CLASS, createLimiter, type AddressRequest, type Limiter, type LimiterOptions, type LimitRequest, type LimitResult } from './decide.js';
export { rateLimitHeaders, retryAfterSeconds, type RateLimitHeaderFamily } from './headers.js';
export { benchLimiter, type BenchResult } from './bench.js';
export { openCounterStore, type CounterStoreRuntime } from './open-store.js';
export {
  applyLimitSettings, createLimitSettings, LimitsPolicyPatchSchema, MAX_OVERRIDES_PER_ENVIRONMENT, OverrideSubjectSchema,
  type LimitSettings, type LimitSettingsOptions, type LimitsPolicyPatch, type OverrideEntry, type SubjectOverride,
} from './settings.js';
export { createLimitSettingsStore, type LimitSettingsStore } from './settings-store.js';
export {
  createRateLimits, createRateLimitsOver, type CallerLimitInput, type RateLimits, type StoreErrorHandler,
} from './service.js';
export {
  addressLimitHeaders, createAccountLimitStage, createAddressLimitStage, createSubjectLimitStage, routeClassOf, type LimitStageDeps,
} from './stages.js';
export type { LimitTables } from './tables.js';
export { createPeriodQuotaStore, periodEndMs, type PeriodQuotaStore, type PeriodQuotaSubject } from './period-quota-store.js';

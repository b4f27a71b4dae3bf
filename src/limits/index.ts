// Public surface of src/limits: import from here, never from a file inside.
export {
  DEFAULT_LIMITS,
  LimitsConfigSchema,
  ClassPolicySchema,
  SubjectOverrideSchema,
  WindowSchema,
  WindowsSchema,
  MAX_WINDOWS_PER_POLICY,
  ROUTE_CLASSES,
  TIERS,
  limitsConfigErrors,
  resolvePolicy,
  validateLimitsConfig,
  type ClassPolicy,
  type FailMode,
  type LimitsConfig,
  type RouteClass,
  type RoutePolicy,
  type Tier,
  type Window,
} from './policy.js';
export { normaliseIp, resolveSubject, subjectKey, type Subject, type SubjectInput } from './subject.js';
export { LimiterUnavailableError, type Decision, type LimiterStore, type WindowState } from './store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { LIMITER_REDIS_OPTIONS, RedisStore, createLimiterRedisClient, type RedisStoreOptions } from './redis-store.js';
export { createLimiter, type Limiter, type LimiterOptions, type LimitRequest, type LimitResult } from './decide.js';
export { rateLimitHeaders, retryAfterSeconds } from './headers.js';
export { benchLimiter, type BenchResult } from './bench.js';

export { loadConfig, ConfigError, type LoadConfigOptions } from './load.js';
export { ConfigSchema, ENV_VARS, type Config } from './schema.js';
export {
  AddressPolicySchema, ClassPolicySchema, DEFAULT_ADDRESS_POLICY, DEFAULT_LIMITS, LimitsConfigSchema, LimitsFileSchema, MAX_WINDOWS_PER_POLICY,
  OVERRIDE_SUBJECT_PATTERN, ROUTE_CLASSES, SubjectOverrideSchema, TIERS, WindowSchema, WindowsSchema,
  type AddressPolicy, type ClassPolicy, type FailMode, type LimitsConfig, type RouteClass, type Tier, type Window,
} from './rate-limits.js';

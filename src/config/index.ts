export { loadConfig, ConfigError, type LoadConfigOptions } from './load.js';
export { ConfigSchema, ENV_VARS, type Config } from './schema.js';

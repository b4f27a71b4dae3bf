export { openStorage, sqliteFilePath, type Storage, type EngineName, type EngineCapabilities, type OpenStorageOptions } from './database.js';
export { migrateToLatest } from './migrate.js';
export type * from './tables.js';

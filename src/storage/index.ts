// File storage (issue #15): `/storage/v1`, compatible with supabase-js `storage`.
export { createStorageService, type StorageService, type StorageServiceDeps } from './service.js';
export { storageRoutes, type StorageRoutesOptions } from './routes/index.js';
export type { BlobBackend } from './backends/backend.js';
export type { StorageTables } from './tables.js';
export { objectRecord, type ObjectChange, type ObjectChanges, type ObjectChangeSink, type ObjectChangeType, type StorageObjectRecord } from './changes.js';
export type { ObjectReadAccess, ObjectReadCheck } from './read-access.js';

// Public surface of src/crypto. aead, sealed-format and data-key are internal.
export { createKeyring, type Keyring, type KeyringOptions } from './keyring.js';
export type { DataKeyStore, WrappedDataKey } from './data-key-store.js';
export { createMemoryDataKeyStore } from './memory-data-key-store.js';
export { KeyringError, type KeyringErrorCode } from './errors.js';
export { generateMasterKey, masterKeyId, parseMasterKey } from './master-key.js';
export { loadOrCreateDevMasterKey, type DevMasterKey } from './dev-master-key.js';
export { randomToken, sha256Hex, timingSafeEqualString } from './hashing.js';
export { createSqlDataKeyStore } from './sql-data-key-store.js';

export { generateApiKey, parseApiKey, hashApiKey, LOOKS_LIKE_KEY, PROJECT_ID_PATTERN, type KeyKind, type ParsedKey } from './format.js';
export { hasScope, validateScope } from '../../access/index.js';
export { createApiKeyStore, type ApiKeyStore } from './store.js';
export { assertMayManageKey, holdsEveryScope, mayManageKey, OPERATOR_POWER, type KeyPower } from './power.js';
export {
  createApiKeyService, ApiKeyRejected,
  type ApiKeyService, type VerifiedKey, type ApiKeySummary, type CreateKeyInput, type KeyRejection,
} from './service.js';

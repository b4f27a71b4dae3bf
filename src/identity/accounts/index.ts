export { createAccountService, type AccountService, type Scope, type SignedIn, type UserPatch } from './service.js';
export { createRecoveryService, type RecoveryService, RECOVERY_QUEUE_MAX, RECOVERY_TTL_MS } from './recovery.js';
export { createSignupPolicy, SIGNUP_MODES, type SignupMode, type SignupPolicy } from './signup-policy.js';
export { createUserStore, isUniqueViolation, type UserRow, type UserStore } from './store.js';
export { toUserJson, appMetadataOf, userMetadataOf, type UserJson } from './user-json.js';
export { normalizeEmail } from './email.js';

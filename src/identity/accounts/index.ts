export { createAccountService, type AccountService, type Scope, type SignedIn, type UserPatch } from './service.js';
export { createRecoveryService, type RecoveryService, RECOVERY_QUEUE_MAX, RECOVERY_TTL_MS } from './recovery.js';
export {
  createEmailChangeService, type EmailChangeService, SINGLE_CONFIRMATION, EMAIL_CHANGE_TTL_MS, EMAIL_CHANGE_RESEND_MS, EMAIL_CHANGE_MAX_FAILED_ATTEMPTS,
} from './email-change.js';
export { createOneTimeCodes, type OneTimeCodes } from './one-time-codes.js';
export { createSignupPolicy, SIGNUP_MODES, type SignupMode, type SignupPolicy } from './signup-policy.js';
export { createUserStore, isUniqueViolation, type UserRow, type UserStore } from './store.js';
export { toUserJson, appMetadataOf, userMetadataOf, type UserJson } from './user-json.js';
export { normalizeEmail } from './email.js';

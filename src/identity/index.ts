// Public surface of end-user identity (issue #3). api-keys/ has its own index.
export { createIdentity, type Identity, type IdentityDeps, type SessionResponse } from './identity.js';
export { authRoutes, recordAuthRejections } from './routes/index.js';
export { normalizeEmail, toUserJson, appMetadataOf, userMetadataOf, SIGNUP_MODES, type SignupMode, type UserRow, type UserJson } from './accounts/index.js';
export type { SessionSummary } from './sessions/index.js';
export type { Issuer, IssuerInput, IssuerKind } from './external/index.js';
export type { OutboxEntry } from './mailer/index.js';
export type { SigningKeySummary } from './jwt/index.js';
export { accessClaimsFor } from './jwt/index.js';
// The dashboard's operators sign in with the same password hashing, policy and backoff as end users.
export { createSignInBackoff, type BackoffPolicy, type SignInBackoff } from './guard/index.js';
export { assertPasswordAcceptable, type PasswordHasher } from './passwords/index.js';

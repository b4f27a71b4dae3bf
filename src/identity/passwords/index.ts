export { createPasswordHasher, defaultHashGate, type Argon2Params, type HashGateOptions, type PasswordHasher } from './hasher.js';
export { assertPasswordAcceptable, weakPasswordReasons, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './policy.js';

export { createMemoryAttemptStore, type AttemptStore, type AttemptState } from './attempt-store.js';
export { createSignInBackoff, backoffDelayMs, type BackoffPolicy, type SignInBackoff, type SignInSubject } from './backoff.js';
export { createRedisAttemptStore } from './redis-attempt-store.js';

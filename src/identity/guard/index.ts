export { createSignInBackoff, backoffDelayMs, type BackoffPolicy, type SignInBackoff, type SignInSubject } from './backoff.js';

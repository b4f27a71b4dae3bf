import type { UserRow } from './store.js';

// Shapes every account service speaks (sign-up and sign-in, recovery, email change), in a module of
// their own so that those services never import each other's modules for them.

/** The project environment an account lives in. */
export interface Scope {
  projectId: string;
  environment: string;
}

export interface SignedIn {
  user: UserRow;
  sessionId: string;
  refreshToken: string;
  method: string;
}

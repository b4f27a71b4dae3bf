import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { SignInBackoff } from '../guard/index.js';
import { assertPasswordAcceptable, PASSWORD_MAX_LENGTH, type PasswordHasher } from '../passwords/index.js';
import type { RequestMeta, SessionService } from '../sessions/index.js';
import { normalizeEmail } from './email.js';
import type { EmailChangeService } from './email-change.js';
import type { SignupPolicy } from './signup-policy.js';
import { isUniqueViolation, type UserRow, type UserStore } from './store.js';
import type { Scope, SignedIn } from './types.js';
import { userMetadataOf } from './user-json.js';

export type { Scope, SignedIn } from './types.js';

export interface UserPatch {
  email?: string;
  password?: string;
  data?: Record<string, unknown>;
}

export interface AccountService {
  signUp(scope: Scope, input: { email: unknown; password: unknown; data?: Record<string, unknown> }, meta: RequestMeta): Promise<SignedIn>;
  signInWithPassword(scope: Scope, input: { email: unknown; password: unknown }, meta: RequestMeta): Promise<SignedIn>;
  /** Creates an account without a session (admin API, CLI, test helpers). */
  create(scope: Scope, input: { email: unknown; password: unknown; role?: string; data?: Record<string, unknown> }): Promise<UserRow>;
  update(scope: Scope, userId: string, patch: UserPatch, currentSessionId: string | null): Promise<UserRow>;
  setRole(scope: Scope, userId: string, role: 'authenticated' | 'admin'): Promise<UserRow>;
  get(scope: Scope, userId: string): Promise<UserRow | null>;
}

/**
 * user_metadata is copied into every access token, and the token travels in a header: Node
 * refuses request headers over 16 KiB in total (431), and MAX_TOKEN_LENGTH is 16 KiB. Base64url
 * grows the payload by 4/3, so 8 KiB of metadata keeps the token near 12 KiB, leaving room for
 * the other headers; at 16 KiB a user could lock themselves out with their own metadata.
 */
export const MAX_METADATA_BYTES = 8 * 1024;

function checkMetadataSize(data: Record<string, unknown>): void {
  // Bytes, not UTF-16 units: the limit bounds what is stored and copied into every access token.
  if (Buffer.byteLength(JSON.stringify(data), 'utf8') > MAX_METADATA_BYTES) {
    throw new GatehouseError('validation_failed', { message: `data is larger than ${MAX_METADATA_BYTES} bytes.`, details: { field: 'data' } });
  }
}

function checkMetadata(data: unknown): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new GatehouseError('validation_failed', { message: 'data must be an object.', details: { field: 'data' } });
  checkMetadataSize(data as Record<string, unknown>);
  return data as Record<string, unknown>;
}

/** Cheap upper bound first (a code point is at most 2 UTF-16 units), then the policy's own count. */
function exceedsPasswordMax(password: string): boolean {
  return password.length > PASSWORD_MAX_LENGTH * 2 || [...password].length > PASSWORD_MAX_LENGTH;
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string') throw new GatehouseError('validation_failed', { message: 'password is required.', details: { field: 'password' } });
  assertPasswordAcceptable(password);
  return password;
}

export function createAccountService(d: {
  store: UserStore; hasher: PasswordHasher; sessions: SessionService; backoff: SignInBackoff; signup: SignupPolicy; events: SecurityEvents; clock: Clock;
  emailChange: EmailChangeService;
}): AccountService {
  const { store, hasher, sessions, backoff, signup, events, clock, emailChange } = d;

  async function insertUser(scope: Scope, email: string, password: string, role: string, data: Record<string, unknown>): Promise<UserRow> {
    const now = isoNow(clock);
    const row: UserRow = {
      id: newId('usr'), project_id: scope.projectId, environment: scope.environment, email, email_confirmed_at: now,
      password_hash: await hasher.hash(password), role, app_metadata: '{}', user_metadata: JSON.stringify(data), issuer_id: null, external_sub: null,
      created_at: now, updated_at: now, last_sign_in_at: null, email_change: null, email_change_sent_at: null,
    };
    try {
      await store.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatehouseError('user_already_exists');
      throw error;
    }
    return row;
  }

  const service: AccountService = {
    async signUp(scope, input, meta) {
      let email: string;
      let password: string;
      let data: Record<string, unknown>;
      try {
        email = normalizeEmail(input.email);
        password = checkPassword(input.password);
        data = checkMetadata(input.data);
        // The mode first: where sign-up is closed or by invitation, a stranger must not learn
        // whether an address has an account (user_already_exists) from a sign-up attempt.
        await signup.check(scope.projectId, scope.environment, email);
        if (await store.byEmail(scope.projectId, scope.environment, email)) throw new GatehouseError('user_already_exists');
        await signup.admit(scope.projectId, scope.environment, email);
      } catch (error) {
        if (error instanceof GatehouseError) {
          events.record('sign_up_rejected', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason: error.code } });
        }
        throw error;
      }
      // Sign-up confirms at once (no confirmation mail in this version), as GoTrue with autoconfirm.
      const row = await insertUser(scope, email, password, 'authenticated', data);
      const now = isoNow(clock);
      await store.update(scope.projectId, scope.environment, row.id, { last_sign_in_at: now });
      const { sessionId, refreshToken } = await sessions.create(scope.projectId, scope.environment, row.id, meta);
      return { user: { ...row, last_sign_in_at: now }, sessionId, refreshToken, method: 'password' };
    },

    async signInWithPassword(scope, input, meta) {
      const email = normalizeEmail(input.email);
      if (typeof input.password !== 'string') {
        events.record('sign_in_failed', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason: 'missing_password' } });
        throw new GatehouseError('invalid_credentials');
      }
      const subject = { ...scope, account: email, ip: meta.ip ?? 'unknown', requestId: meta.requestId };
      await backoff.check(subject);
      // No stored password can be longer than the policy allows, so an over-long one is a
      // failure decided before Argon2 ever sees it (hashing attacker-sized input is a DoS lever).
      if (exceedsPasswordMax(input.password)) {
        await backoff.failed(subject);
        events.record('sign_in_failed', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason: 'password_too_long' } });
        throw new GatehouseError('invalid_credentials');
      }
      const user = await store.byEmail(scope.projectId, scope.environment, email);
      // Unknown email and wrong password cost the same Argon2 verification and give the same answer.
      const ok = await hasher.verify(user?.password_hash ?? null, input.password);
      if (!ok || !user) {
        await backoff.failed(subject);
        events.record('sign_in_failed', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason: 'invalid_credentials' } });
        throw new GatehouseError('invalid_credentials');
      }
      await backoff.succeeded(subject);
      const now = isoNow(clock);
      const patch: Partial<UserRow> = { last_sign_in_at: now };
      // Parameters raised since this hash was made: upgrade it now that we hold the password.
      if (user.password_hash && hasher.needsRehash(user.password_hash)) patch.password_hash = await hasher.hash(input.password);
      await store.update(scope.projectId, scope.environment, user.id, patch);
      const { sessionId, refreshToken } = await sessions.create(scope.projectId, scope.environment, user.id, meta);
      return { user: { ...user, ...patch }, sessionId, refreshToken, method: 'password' };
    },

    async create(scope, input) {
      const email = normalizeEmail(input.email);
      const password = checkPassword(input.password);
      return insertUser(scope, email, password, input.role === 'admin' ? 'admin' : 'authenticated', checkMetadata(input.data));
    },

    async update(scope, userId, patch, currentSessionId) {
      const user = await store.byId(scope.projectId, scope.environment, userId);
      if (!user) throw new GatehouseError('user_not_found');
      const changes: Partial<UserRow> = { updated_at: isoNow(clock) };
      if (patch.email !== undefined) {
        if (user.issuer_id) throw new GatehouseError('validation_failed', { message: 'The email of an external user is managed by its issuer.' });
        normalizeEmail(patch.email); // refuse a bad address before anything else changes
      }
      if (patch.password !== undefined) {
        if (user.issuer_id) throw new GatehouseError('validation_failed', { message: 'External users have no Gatehouse password.' });
        changes.password_hash = await hasher.hash(checkPassword(patch.password));
      }
      if (patch.data !== undefined) {
        // The merged object is what is stored: each patch under the limit must not add up past it.
        const merged = { ...userMetadataOf(user), ...checkMetadata(patch.data) };
        checkMetadataSize(merged);
        changes.user_metadata = JSON.stringify(merged);
      }
      // The address itself does not change here: it becomes a pending change that codes mailed
      // to it (and to the current address) confirm, so a token's `email` claim is always proven.
      let updated: UserRow = user;
      if (patch.email !== undefined) updated = await emailChange.request(scope, user, patch.email);
      await store.update(scope.projectId, scope.environment, userId, changes);
      updated = { ...updated, ...changes };
      // A new password ends every other session: whoever held the old credentials is signed out.
      // It also drops a pending email change, which a thief of the session may have started.
      if (changes.password_hash) {
        await sessions.revokeAllOfUser(scope.projectId, scope.environment, userId, 'password_changed', currentSessionId ?? undefined);
        if (patch.email === undefined && user.email_change !== null) {
          await emailChange.cancel(scope, userId);
          updated = { ...updated, email_change: null };
        }
      }
      return updated;
    },

    async setRole(scope, userId, role) {
      const user = await store.byId(scope.projectId, scope.environment, userId);
      if (!user) throw new GatehouseError('user_not_found');
      await store.update(scope.projectId, scope.environment, userId, { role, updated_at: isoNow(clock) });
      return { ...user, role };
    },

    get: (scope, userId) => store.byId(scope.projectId, scope.environment, userId),
  };
  return service;
}

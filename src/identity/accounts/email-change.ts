import type { Logger } from 'pino';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import type { Mailer, MailMessage } from '../mailer/index.js';
import type { RequestMeta, SessionService } from '../sessions/index.js';
import { normalizeEmail } from './email.js';
import { logMailFailure } from './mail-failure.js';
import type { OneTimeCodes } from './one-time-codes.js';
import type { Scope, SignedIn } from './types.js';
import { isUniqueViolation, type UserRow, type UserStore } from './store.js';

/** A code to confirm an email change lives an hour, as a recovery code. */
export const EMAIL_CHANGE_TTL_MS = 3600_000;
/** One email-change mail per user per minute (GoTrue's default): a signed-in user cannot mail-bomb an address. */
export const EMAIL_CHANGE_RESEND_MS = 60_000;
/** Wrong codes tried against one address before its pending changes are cancelled. */
export const EMAIL_CHANGE_MAX_FAILED_ATTEMPTS = 5;

// The code mailed to the new address proves the user owns it; the code mailed to the
// current address (GoTrue's "secure email change") proves the request came from the
// owner of the account, not from whoever holds a stolen session.
const NEW = 'email_change_new';
const CURRENT = 'email_change_current';
const KINDS = [NEW, CURRENT] as const;

/** GoTrue's answer when the first of two codes is accepted; supabase-js returns it as `data.user` with no session. */
export const SINGLE_CONFIRMATION = { msg: 'Confirmation link accepted. Please proceed to confirm link sent to the other email', code: '200' } as const;

export interface EmailChangeService {
  /** Makes `rawEmail` the pending address and mails the codes; the account keeps its address until they come back. */
  request(scope: Scope, user: UserRow, rawEmail: unknown): Promise<UserRow>;
  /** Spends one code: the first of two answers SINGLE_CONFIRMATION, the last one changes the address and signs in. */
  verify(scope: Scope, input: { token?: unknown; token_hash?: unknown; email?: unknown }, meta: RequestMeta): Promise<SignedIn | typeof SINGLE_CONFIRMATION>;
  /** Drops a pending change and voids its codes (password changed, too many wrong codes). */
  cancel(scope: Scope, userId: string): Promise<void>;
}

export function createEmailChangeService(d: {
  codes: OneTimeCodes; store: UserStore; sessions: SessionService; mailer: Mailer; events: SecurityEvents; clock: Clock;
  /** Also ask the current address for a code when it is confirmed (GoTrue's SECURE_EMAIL_CHANGE_ENABLED). */
  secure: boolean;
  logger?: Pick<Logger, 'error'>;
}): EmailChangeService {
  const { codes, store, sessions, mailer, events, clock, secure, logger } = d;

  // Every path that voids codes clears or replaces the pending change *first*: a verify
  // racing with it then fails its compare-and-set, even though a voided code looks
  // spent to hasUnspent().
  async function cancel(scope: Scope, userId: string): Promise<void> {
    await store.update(scope.projectId, scope.environment, userId, { email_change: null });
    await codes.voidAll(scope, userId, KINDS);
  }

  const mail = (scope: Scope, m: Omit<MailMessage, 'projectId' | 'environment'>) => mailer.send({ projectId: scope.projectId, environment: scope.environment, ...m });

  return {
    cancel,

    async request(scope, user, rawEmail) {
      if (user.issuer_id) throw new GatehouseError('validation_failed', { message: 'The email of an external user is managed by its issuer.' });
      const address = normalizeEmail(rawEmail);
      if (address === user.email) return user;
      const nowMs = clock.nowMs();
      const lastMs = user.email_change_sent_at ? Date.parse(user.email_change_sent_at) : Number.NaN;
      if (nowMs - lastMs < EMAIL_CHANGE_RESEND_MS) {
        const retryAfterS = Math.ceil((lastMs + EMAIL_CHANGE_RESEND_MS - nowMs) / 1000);
        throw new GatehouseError('over_email_send_rate_limit', { retryAfterS, message: `For security purposes, you can only request this after ${retryAfterS} seconds.` });
      }
      // GoTrue answers email_exists here too; sign-up tells the same to anyone, so this
      // reveals nothing more. The unique index decides again at confirmation.
      if (await store.byEmail(scope.projectId, scope.environment, address)) throw new GatehouseError('email_exists');
      const now = isoNow(clock);
      await store.update(scope.projectId, scope.environment, user.id, { email_change: address, email_change_sent_at: now, updated_at: now });
      await codes.voidAll(scope, user.id, KINDS); // codes of an earlier request, after the pending change moved on
      const askCurrent = secure && user.email !== null && user.email_confirmed_at !== null;
      const issue = (kind: string, sentTo: string) => codes.issue(scope, { userId: user.id, kind, sentTo, ttlMs: EMAIL_CHANGE_TTL_MS, createdAt: now });
      const messages: Array<Omit<MailMessage, 'projectId' | 'environment'>> = [{
        to: address, kind: 'email_change', subject: 'Confirm your new email address',
        text: `Someone asked to make this the email address of their account. If it was you, use this one-time code within an hour:\n\n${await issue(NEW, address)}\n\nIf it was not you, ignore this message.`,
      }];
      if (user.email) {
        messages.push(askCurrent
          ? {
            to: user.email, kind: 'email_change', subject: 'Confirm the change of your email address',
            text: `Someone asked to change the email address of your account to ${address}. If it was you, use this one-time code within an hour:\n\n${await issue(CURRENT, user.email)}\n\nIf it was not you, do not use the code: change your password, which cancels the request and signs out your other sessions.`,
          }
          : {
            to: user.email, kind: 'email_change_requested', subject: 'A change of your email address was requested',
            text: `Someone asked to change the email address of your account to ${address}. It takes effect once confirmed from that address. If it was not you, change your password at once: that cancels the request.`,
          });
      }
      try {
        for (const m of messages) await mail(scope, m);
      } catch (error) {
        // The user is told (they asked and are signed in); the change is dropped, so a
        // code that may or may not have left cannot complete it later.
        logMailFailure(logger, scope, error, 'email change mail could not be sent');
        await cancel(scope, user.id);
        throw new GatehouseError('upstream_failed', { message: 'The confirmation mail could not be sent; try again later.' });
      }
      return { ...user, email_change: address, email_change_sent_at: now, updated_at: now };
    },

    async verify(scope, input, meta) {
      const reject = (reason: string) => {
        events.record('email_change_rejected', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason } });
        return new GatehouseError('otp_expired');
      };
      const code = typeof input.token === 'string' && input.token !== '' ? input.token : typeof input.token_hash === 'string' ? input.token_hash : '';
      if (code === '' || code.length > 200) throw reject('missing');
      // A code is valid only with the address it was mailed to, as in GoTrue.
      if (typeof input.email !== 'string' || input.email === '') {
        throw new GatehouseError('validation_failed', { message: 'email is required with type=email_change: the address the code was sent to.', details: { field: 'email' } });
      }
      const sentTo = normalizeEmail(input.email);
      const { row, exhausted } = await codes.match(scope, { kinds: KINDS, sentTo, code, maxFailedAttempts: EMAIL_CHANGE_MAX_FAILED_ATTEMPTS });
      for (const userId of new Set(exhausted.map((r) => r.user_id))) await cancel(scope, userId);
      if (!row) throw reject(exhausted.length > 0 ? 'too_many_attempts' : 'unknown');

      const user = await store.byId(scope.projectId, scope.environment, row.user_id);
      const pending = user?.email_change ?? null;
      // The code must belong to the change now pending (same request, same addresses).
      if (!user || pending === null || user.email_change_sent_at !== row.created_at || row.sent_to !== (row.kind === NEW ? pending : user.email)) throw reject('stale');
      if (!(await codes.spend(row.id))) throw reject('used');
      if (await codes.hasUnspent(scope, user.id, KINDS, row.created_at)) return SINGLE_CONFIRMATION;

      const now = isoNow(clock);
      const change = { email_change: pending, email_change_sent_at: row.created_at };
      let confirmed: boolean;
      try {
        confirmed = await store.updateIfEmailChange(scope.projectId, scope.environment, user.id, change, {
          email: pending, email_confirmed_at: now, email_change: null, updated_at: now, last_sign_in_at: now,
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another account took the address since the request: the change cannot happen.
        await cancel(scope, user.id);
        throw new GatehouseError('email_exists');
      }
      if (!confirmed) throw reject('stale');
      // Whoever held the account under the old address is signed out; the verifier gets a fresh session.
      const { sessionId, refreshToken } = await sessions.create(scope.projectId, scope.environment, user.id, meta);
      await sessions.revokeAllOfUser(scope.projectId, scope.environment, user.id, 'email_changed', sessionId);
      if (user.email) {
        await mail(scope, {
          to: user.email, kind: 'email_changed', subject: 'Your email address was changed',
          text: `The email address of your account was changed to ${pending}. If you did not do this, contact the app's support at once.`,
        }).catch((error: unknown) => logMailFailure(logger, scope, error, 'email changed notice could not be sent'));
      }
      return { user: { ...user, email: pending, email_confirmed_at: now, email_change: null, updated_at: now, last_sign_in_at: now }, sessionId, refreshToken, method: 'otp' };
    },
  };
}

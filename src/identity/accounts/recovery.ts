import type { Logger } from 'pino';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import type { Mailer } from '../mailer/index.js';
import type { RequestMeta, SessionService } from '../sessions/index.js';
import { normalizeEmail } from './email.js';
import { logMailFailure } from './mail-failure.js';
import type { OneTimeCodes } from './one-time-codes.js';
import type { Scope, SignedIn } from './types.js';
import type { UserStore } from './store.js';

/** One hour, single use (issue #3). */
export const RECOVERY_TTL_MS = 3600_000;

/** Recoveries being worked on off the request path beyond which new ones get 503 (the same for every address). */
export const RECOVERY_QUEUE_MAX = 256;

export interface RecoveryService {
  /**
   * Validates the address and hands the rest (look-up, code, mail) to work off the request path,
   * so the answer and its timing are the same whether or not the account exists (no enumeration).
   */
  recover(scope: Scope, email: unknown, meta: RequestMeta): Promise<void>;
  /** Resolves when the recoveries handed off so far are done (tests, shutdown). */
  flush(): Promise<void>;
  /** Spends a recovery token and signs the user in, so that they can set a new password. */
  verify(scope: Scope, input: { type: unknown; token?: unknown; token_hash?: unknown; email?: unknown }, meta: RequestMeta): Promise<SignedIn>;
}

export function createRecoveryService(d: {
  codes: OneTimeCodes; store: UserStore; sessions: SessionService; mailer: Mailer; events: SecurityEvents; clock: Clock; logger?: Pick<Logger, 'error'>;
}): RecoveryService {
  const { codes, store, sessions, mailer, events, clock, logger } = d;
  const pending = new Set<Promise<void>>();

  /** Looks the account up and mails it a code; an unknown address ends here. */
  async function sendCode(scope: Scope, email: string): Promise<void> {
    const user = await store.byEmail(scope.projectId, scope.environment, email);
    if (!user) return;
    const token = await codes.issue(scope, { userId: user.id, kind: 'recovery', sentTo: email, ttlMs: RECOVERY_TTL_MS, createdAt: isoNow(clock) });
    await mailer.send({
      projectId: scope.projectId, environment: scope.environment, to: email, kind: 'recovery', subject: 'Reset your password',
      text: `Someone asked to reset the password of this account. If it was you, use this one-time code within an hour:

${token}

If it was not you, ignore this message.`,
    });
  }

  return {
    async recover(scope, rawEmail) {
      const email = normalizeEmail(rawEmail);
      // Bounded: a flood of recoveries must not pile up unbounded work. The refusal does not
      // depend on the address, so it tells nothing about accounts either.
      if (pending.size >= RECOVERY_QUEUE_MAX) {
        throw new GatehouseError('service_unavailable', { message: 'Too many recoveries in progress; retry shortly.', retryAfterS: 1 });
      }
      // Not awaited: the look-up, the code and the mail (a slow SMTP server) all happen after the
      // answer, so an unknown address answers exactly as fast as a known one, and a mail outage
      // cannot tell which accounts exist either. The operator learns of failures from the log.
      const work = sendCode(scope, email)
        .catch((error: unknown) => logMailFailure(logger, scope, error, 'recovery mail could not be sent'))
        .finally(() => pending.delete(work));
      pending.add(work);
    },

    async flush() {
      await Promise.all([...pending]);
    },

    async verify(scope, input, meta) {
      if (input.type !== 'recovery') throw new GatehouseError('validation_failed', { message: 'Only type=recovery is supported.', details: { field: 'type' } });
      const token = typeof input.token === 'string' && input.token !== '' ? input.token : typeof input.token_hash === 'string' ? input.token_hash : '';
      const reject = (reason: string) => {
        events.record('recovery_token_rejected', { ...scope, ip: meta.ip, requestId: meta.requestId, details: { reason } });
        return new GatehouseError('otp_expired');
      };
      if (token === '' || token.length > 200) throw reject('missing');
      const row = await codes.byCode(scope, 'recovery', token);
      if (!row) throw reject('unknown');
      if (row.used_at !== null) throw reject('used');
      if (Date.parse(row.expires_at) <= clock.nowMs()) throw reject('expired');
      const user = await store.byId(scope.projectId, scope.environment, row.user_id);
      if (!user) throw reject('unknown');
      if (input.email !== undefined && input.email !== null && input.email !== '' && normalizeEmail(input.email) !== user.email) throw reject('email_mismatch');
      // Single use even under concurrency: only the request that flips used_at wins.
      if (!(await codes.spend(row.id))) throw reject('used');
      // The account is being recovered now: any other code still sitting in a mailbox
      // (an older request, or one an attacker triggered) must not open a second door.
      await codes.voidAll(scope, user.id, ['recovery']);
      const now = isoNow(clock);
      await store.update(scope.projectId, scope.environment, user.id, { last_sign_in_at: now });
      const { sessionId, refreshToken } = await sessions.create(scope.projectId, scope.environment, user.id, meta);
      return { user: { ...user, last_sign_in_at: now }, sessionId, refreshToken, method: 'otp' };
    },
  };
}

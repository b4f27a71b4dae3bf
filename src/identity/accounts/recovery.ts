import type { Logger } from 'pino';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import type { Mailer } from '../mailer/index.js';
import type { RequestMeta, SessionService } from '../sessions/index.js';
import { normalizeEmail } from './email.js';
import { logMailFailure } from './mail-failure.js';
import type { OneTimeCodes } from './one-time-codes.js';
import type { Scope, SignedIn } from './service.js';
import type { UserStore } from './store.js';

/** One hour, single use (issue #3). */
export const RECOVERY_TTL_MS = 3600_000;

export interface RecoveryService {
  /** Always resolves the same way whether or not the account exists (no enumeration). */
  recover(scope: Scope, email: unknown, meta: RequestMeta): Promise<void>;
  /** Spends a recovery token and signs the user in, so that they can set a new password. */
  verify(scope: Scope, input: { type: unknown; token?: unknown; token_hash?: unknown; email?: unknown }, meta: RequestMeta): Promise<SignedIn>;
}

export function createRecoveryService(d: {
  codes: OneTimeCodes; store: UserStore; sessions: SessionService; mailer: Mailer; events: SecurityEvents; clock: Clock; logger?: Pick<Logger, 'error'>;
}): RecoveryService {
  const { codes, store, sessions, mailer, events, clock, logger } = d;
  return {
    async recover(scope, rawEmail) {
      const email = normalizeEmail(rawEmail);
      const user = await store.byEmail(scope.projectId, scope.environment, email);
      if (!user) return;
      const token = await codes.issue(scope, { userId: user.id, kind: 'recovery', sentTo: email, ttlMs: RECOVERY_TTL_MS, createdAt: isoNow(clock) });
      try {
        await mailer.send({
          projectId: scope.projectId, environment: scope.environment, to: email, kind: 'recovery', subject: 'Reset your password',
          text: `Someone asked to reset the password of this account. If it was you, use this one-time code within an hour:\n\n${token}\n\nIf it was not you, ignore this message.`,
        });
      } catch (error) {
        // A mail outage must not answer 500 here: an unknown email answers {} without mailing,
        // so an error only for real accounts would tell which accounts exist. The operator
        // learns from the log.
        logMailFailure(logger, scope, error, 'recovery mail could not be sent');
      }
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
      if (Date.parse(row.expires_at) <= clock.now().getTime()) throw reject('expired');
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

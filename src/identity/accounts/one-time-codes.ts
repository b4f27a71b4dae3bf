import type { Kysely, Selectable } from 'kysely';
import { randomToken, sha256Hex, timingSafeEqualString } from '../../crypto/index.js';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { IdentityOneTimeTokensTable } from '../tables.js';
import type { Scope } from './types.js';

export type OneTimeCodeRow = Selectable<IdentityOneTimeTokensTable>;

/**
 * Codes mailed to a user (password recovery, email change): 256 random bits, so
 * that guessing is hopeless even before the attempt limit; only the SHA-256 is
 * stored, so a database leak holds no usable code; each one expires and is
 * spent once.
 */
export interface OneTimeCodes {
  /** Mints a code; `createdAt` lets a caller tie the codes of one request together. */
  issue(scope: Scope, input: { userId: string; kind: string; sentTo: string; ttlMs: number; createdAt: string }): Promise<string>;
  /** The code with this hash, spent or not (the caller tells apart why it refuses). */
  byCode(scope: Scope, kind: string, code: string): Promise<OneTimeCodeRow | null>;
  /**
   * The live code among those mailed to `sentTo`, compared in constant time. A miss
   * counts one failure against every live code to that address; the codes that
   * reach `maxFailedAttempts` come back as `exhausted` (and are no longer live).
   */
  match(scope: Scope, input: { kinds: readonly string[]; sentTo: string; code: string; maxFailedAttempts: number }): Promise<{ row: OneTimeCodeRow | null; exhausted: OneTimeCodeRow[] }>;
  /** Spends a live code; under concurrency only one caller gets true. */
  spend(id: string): Promise<boolean>;
  /** Voids every unspent code of these kinds of one user. */
  voidAll(scope: Scope, userId: string, kinds: readonly string[]): Promise<void>;
  /** Whether a code of these kinds, minted at `createdAt`, is still unspent. */
  hasUnspent(scope: Scope, userId: string, kinds: readonly string[], createdAt: string): Promise<boolean>;
}

/** More live codes than this to one address are not looked at (newest first): bounds the work of one guess. */
const MAX_CANDIDATES = 50;

export function createOneTimeCodes({ db, clock }: { db: Kysely<Database>; clock: Clock }): OneTimeCodes {
  const scoped = (scope: Scope) => db.selectFrom('identity_one_time_tokens').selectAll()
    .where('project_id', '=', scope.projectId).where('environment', '=', scope.environment);

  return {
    async issue(scope, { userId, kind, sentTo, ttlMs, createdAt }) {
      const code = randomToken(32);
      await db.insertInto('identity_one_time_tokens').values({
        id: newId('ott'), project_id: scope.projectId, environment: scope.environment, user_id: userId, kind, sent_to: sentTo,
        token_hash: sha256Hex(code), created_at: createdAt, expires_at: new Date(Date.parse(createdAt) + ttlMs).toISOString(), used_at: null,
      }).execute();
      return code;
    },

    async byCode(scope, kind, code) {
      return (await scoped(scope).where('token_hash', '=', sha256Hex(code)).where('kind', '=', kind).executeTakeFirst()) ?? null;
    },

    async match(scope, { kinds, sentTo, code, maxFailedAttempts }) {
      const now = isoNow(clock);
      const live = await scoped(scope).where('sent_to', '=', sentTo).where('kind', 'in', [...kinds]).where('used_at', 'is', null)
        .where('expires_at', '>', now).where('failed_attempts', '<', maxFailedAttempts)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(MAX_CANDIDATES).execute();
      const hash = sha256Hex(code);
      // Every candidate is compared (no early exit), each in constant time.
      let row: OneTimeCodeRow | null = null;
      for (const candidate of live) if (timingSafeEqualString(candidate.token_hash, hash)) row = candidate;
      if (row || live.length === 0) return { row, exhausted: [] };
      const ids = live.map((r) => r.id);
      await db.updateTable('identity_one_time_tokens').set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) })).where('id', 'in', ids).execute();
      const exhausted = await db.selectFrom('identity_one_time_tokens').selectAll().where('id', 'in', ids)
        .where('failed_attempts', '>=', maxFailedAttempts).where('used_at', 'is', null).execute();
      return { row: null, exhausted };
    },

    async spend(id) {
      const now = isoNow(clock);
      const spent = await db.updateTable('identity_one_time_tokens').set({ used_at: now })
        .where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
      return Number(spent.numUpdatedRows) === 1;
    },

    async voidAll(scope, userId, kinds) {
      await db.updateTable('identity_one_time_tokens').set({ used_at: isoNow(clock) })
        .where('project_id', '=', scope.projectId).where('environment', '=', scope.environment)
        .where('user_id', '=', userId).where('kind', 'in', [...kinds]).where('used_at', 'is', null).execute();
    },

    async hasUnspent(scope, userId, kinds, createdAt) {
      const row = await scoped(scope).where('user_id', '=', userId).where('kind', 'in', [...kinds])
        .where('created_at', '=', createdAt).where('used_at', 'is', null).executeTakeFirst();
      return row !== undefined;
    },
  };
}

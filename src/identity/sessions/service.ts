import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { randomToken, sha256Hex } from '../../crypto/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { createTtlCache, KEEP_WARM_MS } from '../../shared/ttl-cache.js';
import type { IdentitySessionsTable } from '../tables.js';

/** A session as shown to its user or an admin: the row without its tenancy columns. */
export type SessionSummary = Omit<IdentitySessionsTable, 'project_id' | 'environment'>;

export interface ActiveSession {
  id: string;
  userId: string;
  role: string;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId?: string;
}

export interface SessionService {
  create(projectId: string, environment: string, userId: string, meta: RequestMeta): Promise<{ sessionId: string; refreshToken: string }>;
  /**
   * Spends a refresh token and returns its successor. A spent token presented
   * again after the reuse interval means it was stolen (or the client is
   * broken): the whole session — the token family — is revoked (GoTrue's
   * reuse detection, RFC 6819 §5.2.2.3).
   */
  refresh(projectId: string, environment: string, refreshToken: string, meta: RequestMeta): Promise<{ sessionId: string; userId: string; refreshToken: string }>;
  /** The session behind an access token, if it still counts (not revoked, not idle past its limit). */
  active(projectId: string, environment: string, sessionId: string): Promise<ActiveSession | null>;
  /** `active`'s answer when it is cached (hot path, synchronous); undefined when it must be read. */
  known(projectId: string, environment: string, sessionId: string): ActiveSession | null | undefined;
  revoke(projectId: string, environment: string, sessionId: string, reason: string): Promise<boolean>;
  /** Drops cached liveness answers for a user's sessions: their role or standing just changed. */
  forgetUser(projectId: string, environment: string, userId: string): void;
  /** All of a user's sessions, or all but one (`others`). */
  revokeAllOfUser(projectId: string, environment: string, userId: string, reason: string, exceptSessionId?: string): Promise<number>;
  list(projectId: string, environment: string, userId: string): Promise<SessionSummary[]>;
  get(projectId: string, environment: string, sessionId: string): Promise<SessionSummary | null>;
}

export interface SessionOptions {
  db: Kysely<Database>;
  clock: Clock;
  events: SecurityEvents;
  reuseIntervalSeconds: number;
  /** 0: sessions live until revoked. */
  inactivitySeconds: number;
  /**
   * Milliseconds a liveness answer (`active`) is cached; 0 disables. Every
   * authenticated request asks, so this saves a query per request. Revoking
   * on this instance evicts at once; another instance notices within this bound.
   */
  cacheMs?: number;
}

/** Sessions whose liveness is kept warm at once (ttl-cache.ts keepWarmMax). */
const KEEP_WARM_SESSIONS = 64;

/** 32 random bytes: unguessable, and only its SHA-256 is stored. */
const REFRESH_TOKEN_BYTES = 32;

export function createSessionService(options: SessionOptions): SessionService {
  const { db, clock, events, reuseIntervalSeconds, inactivitySeconds } = options;
  // Kept warm (ttl-cache.ts), for at most KEEP_WARM_SESSIONS sessions at once: a user's request
  // after a quiet spell does not wait for the database, and the background reads stay bounded
  // (one per session per TTL: at most 64 / 0.375 s ≈ 170 point reads a second at the default).
  type Liveness = { projectId: string; environment: string; session: ActiveSession | null };
  const liveness = createTtlCache<Liveness>({ ttlMs: options.cacheMs ?? 0, clock, keepWarmMs: KEEP_WARM_MS, keepWarmMax: KEEP_WARM_SESSIONS });
  function knownLiveness(projectId: string, environment: string, sessionId: string): ActiveSession | null | undefined {
    const hit = liveness.get(sessionId);
    return hit && hit.projectId === projectId && hit.environment === environment ? hit.session : undefined;
  }

  async function readLiveness(projectId: string, environment: string, sessionId: string): Promise<Liveness> {
    const row = await db.selectFrom('identity_sessions as s').innerJoin('identity_users as u', 'u.id', 's.user_id')
      .select(['s.id', 's.user_id', 's.revoked_at', 's.refreshed_at', 'u.role'])
      .where('s.id', '=', sessionId).where('s.project_id', '=', projectId).where('s.environment', '=', environment)
      .executeTakeFirst();
    return { projectId, environment, session: !row || row.revoked_at !== null ? null : { id: row.id, userId: row.user_id, role: row.role } };
  }

  async function mint(sessionId: string, parentId: string | null): Promise<string> {
    const token = randomToken(REFRESH_TOKEN_BYTES);
    await db.insertInto('identity_refresh_tokens').values({
      id: newId('rt'), session_id: sessionId, token_hash: sha256Hex(token), parent_id: parentId, created_at: isoNow(clock), used_at: null, revoked_at: null,
    }).execute();
    return token;
  }

  function idleTooLong(refreshedAt: string): boolean {
    return inactivitySeconds > 0 && clock.nowMs() - Date.parse(refreshedAt) > inactivitySeconds * 1000;
  }

  async function revokeFamily(sessionId: string, reason: string): Promise<void> {
    const now = isoNow(clock);
    await db.updateTable('identity_sessions').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
    // After the write: a lookup that began earlier is discarded (epoch), one that begins later sees it.
    liveness.delete(sessionId);
    await db.updateTable('identity_refresh_tokens').set({ revoked_at: now }).where('session_id', '=', sessionId).where('revoked_at', 'is', null).execute();
  }

  return {
    async create(projectId, environment, userId, meta) {
      const id = newId('sess');
      const now = isoNow(clock);
      await db.insertInto('identity_sessions').values({
        id, project_id: projectId, environment, user_id: userId, created_at: now, refreshed_at: now, revoked_at: null, revoked_reason: null,
        user_agent: meta.userAgent?.slice(0, 300) ?? null, ip: meta.ip,
      }).execute();
      return { sessionId: id, refreshToken: await mint(id, null) };
    },

    async refresh(projectId, environment, refreshToken, meta) {
      const row = await db.selectFrom('identity_refresh_tokens as t')
        .innerJoin('identity_sessions as s', 's.id', 't.session_id')
        .select(['t.id', 't.used_at', 't.revoked_at', 't.session_id', 't.parent_id', 's.user_id', 's.revoked_at as session_revoked_at', 's.refreshed_at'])
        .where('t.token_hash', '=', sha256Hex(refreshToken))
        .where('s.project_id', '=', projectId).where('s.environment', '=', environment)
        .executeTakeFirst();
      if (!row || row.session_revoked_at !== null || row.revoked_at !== null) throw new GatehouseError('refresh_token_not_found');
      if (idleTooLong(row.refreshed_at)) {
        await revokeFamily(row.session_id, 'inactivity');
        throw new GatehouseError('refresh_token_not_found', { message: 'Invalid Refresh Token: Session Expired.' });
      }
      const now = isoNow(clock);
      // Compare-and-set: of two concurrent refreshes with the same token, exactly one spends it.
      const spent = row.used_at === null
        ? Number((await db.updateTable('identity_refresh_tokens').set({ used_at: now }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst()).numUpdatedRows) === 1
        : false;
      if (!spent) {
        const usedAt = row.used_at ?? now;
        const withinInterval = clock.nowMs() - Date.parse(usedAt) <= reuseIntervalSeconds * 1000;
        if (!withinInterval) {
          await revokeFamily(row.session_id, 'refresh_token_reused');
          events.record('refresh_token_reused', { projectId, environment, ip: meta.ip, requestId: meta.requestId, details: { session_id: row.session_id, user_id: row.user_id } });
          throw new GatehouseError('refresh_token_already_used');
        }
        // A concurrent refresh (two tabs, a retried request) inside the interval
        // gets a sibling token of the same family instead of a revocation.
      }
      await db.updateTable('identity_sessions').set({ refreshed_at: now }).where('id', '=', row.session_id).execute();
      return { sessionId: row.session_id, userId: row.user_id, refreshToken: await mint(row.session_id, row.id) };
    },

    known: knownLiveness,

    async active(projectId, environment, sessionId) {
      const hit = knownLiveness(projectId, environment, sessionId);
      if (hit !== undefined) return hit;
      const since = liveness.epoch();
      const fresh = await readLiveness(projectId, environment, sessionId);
      // A revoked session (null) stays revoked: only a live one is worth keeping warm.
      const reload = fresh.session ? () => readLiveness(projectId, environment, sessionId).then((value) => ({ value })) : undefined;
      liveness.set(sessionId, fresh, { since, reload });
      return fresh.session;
    },

    forgetUser(projectId, environment, userId) {
      liveness.deleteWhere((v) => v.session?.userId === userId && v.projectId === projectId && v.environment === environment);
    },

    async revoke(projectId, environment, sessionId, reason) {
      const result = await db.updateTable('identity_sessions').set({ revoked_at: isoNow(clock), revoked_reason: reason })
        .where('id', '=', sessionId).where('project_id', '=', projectId).where('environment', '=', environment).where('revoked_at', 'is', null)
        .executeTakeFirst();
      liveness.delete(sessionId); // after the write, as in revokeFamily
      if (Number(result.numUpdatedRows) === 0) return false;
      await db.updateTable('identity_refresh_tokens').set({ revoked_at: isoNow(clock) }).where('session_id', '=', sessionId).where('revoked_at', 'is', null).execute();
      return true;
    },

    async revokeAllOfUser(projectId, environment, userId, reason, exceptSessionId) {
      let query = db.selectFrom('identity_sessions').select('id')
        .where('project_id', '=', projectId).where('environment', '=', environment).where('user_id', '=', userId).where('revoked_at', 'is', null);
      if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
      const ids = (await query.execute()).map((r) => r.id);
      for (const id of ids) await revokeFamily(id, reason);
      return ids.length;
    },

    async list(projectId, environment, userId) {
      return db.selectFrom('identity_sessions')
        .select(['id', 'user_id', 'created_at', 'refreshed_at', 'revoked_at', 'revoked_reason', 'user_agent', 'ip'])
        .where('project_id', '=', projectId).where('environment', '=', environment).where('user_id', '=', userId)
        .orderBy('created_at', 'desc').limit(200).execute();
    },

    async get(projectId, environment, sessionId) {
      return (await db.selectFrom('identity_sessions')
        .select(['id', 'user_id', 'created_at', 'refreshed_at', 'revoked_at', 'revoked_reason', 'user_agent', 'ip'])
        .where('project_id', '=', projectId).where('environment', '=', environment).where('id', '=', sessionId)
        .executeTakeFirst()) ?? null;
    },
  };
}

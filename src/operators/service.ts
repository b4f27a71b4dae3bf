import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/index.js';
import { randomToken, sha256Hex } from '../crypto/index.js';
import type { Database } from '../db/index.js';
import { GatehouseError, invalid } from '../errors/index.js';
import { assertPasswordAcceptable, normalizeEmail, type PasswordHasher, type SignInBackoff } from '../identity/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { createTtlCache } from '../shared/ttl-cache.js';
import { isOperatorRole, parseRoleChanges, type OperatorRole } from './roles.js';
import { newTotpSecret, totpUrl, verifyTotp } from './totp.js';

/** What the dashboard shows of an operator: never its password hash or TOTP secret. */
export interface OperatorSummary {
  id: string;
  email: string;
  totpEnabled: boolean;
  createdAt: string;
  roles: OperatorGrant[];
}

export interface OperatorGrant {
  projectId: string;
  role: OperatorRole;
}

export interface SignInMeta {
  ip: string;
  requestId?: string;
  userAgent?: string | null;
}

/** A fresh session: `sessionId` goes into the cookie and nowhere else (it is stored hashed). */
export interface SignedInOperator {
  operator: OperatorSummary;
  sessionId: string;
}

/** A live session, from the cookie's session id. */
export interface LiveOperatorSession {
  operator: { id: string; email: string; totpEnabled: boolean };
  /** Derived from the session id; required on every change (x-csrf-token). */
  csrfToken: string;
}

export interface OperatorServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  hasher: Pick<PasswordHasher, 'hash' | 'verify'>;
  backoff: SignInBackoff;
  events: SecurityEvents;
  /** A session unused this long ends. */
  sessionIdleSeconds: number;
  /** A session ends this long after sign-in, however active. */
  sessionMaxSeconds: number;
  /** How long a setup link works. */
  setupTokenTtlSeconds: number;
  /** How long a session and a role read stay cached (ms); 0 turns the cache off. */
  cacheMs?: number;
}

export type OperatorService = ReturnType<typeof createOperatorService>;

/**
 * Sessions end after 2 hours unused or 12 hours after sign-in; a setup link works for an hour
 * (each start without an operator prints a fresh one).
 */
export const OPERATOR_SESSION_DEFAULTS = { sessionIdleSeconds: 2 * 3600, sessionMaxSeconds: 12 * 3600, setupTokenTtlSeconds: 3600 } as const;

/** Backoff counters of operators sit apart from every project's end users. */
const BACKOFF_SCOPE = { projectId: '_operators', environment: '_' };
/** TOTP secrets are sealed under their own keyring scope, bound to their operator. */
const SEAL_SCOPE = '_operators';
const sealContext = (operatorId: string) => `operator_totp:${operatorId}`;
/** last_seen_at is written at most this often: a busy dashboard must not write on every call. */
const TOUCH_EVERY_MS = 60_000;
/** Ended sessions and spent setup tokens are deleted at most this often. */
const PRUNE_EVERY_MS = 3_600_000;
/**
 * Every dashboard call reads its session and its role: both are cached this long. A sign-out, a
 * revocation or a role change evicts at once on the instance that made it; there is no
 * cross-instance invalidation, so another instance may honour the old session or role for at most
 * this long. Kept short for that reason (security over speed).
 */
export const OPERATOR_CACHE_MS = 3_000;

/** A live session as read from the database; lastSeenMs moves when this instance touches it. */
interface CachedSession {
  operatorId: string;
  email: string;
  totpEnabled: boolean;
  lastSeenMs: number;
  expiresMs: number;
}

/**
 * The CSRF token of a session: a hash of its secret id under a fixed label, so nothing more is
 * stored, it changes with the session, and knowing it reveals nothing of the cookie.
 */
export function csrfTokenOf(sessionId: string): string {
  return createHash('sha256').update('gatehouse-operator-csrf\0').update(sessionId).digest('base64url');
}

export function createOperatorService(d: OperatorServiceDeps) {
  const { db, clock, keyring, hasher, backoff, events } = d;
  const cacheMs = d.cacheMs ?? OPERATOR_CACHE_MS;
  /** By the session id's hash (the cookie itself is never a key). */
  const sessions = createTtlCache<CachedSession>({ ttlMs: cacheMs, maxEntries: 10_000, clock });
  /** By operator id and project id; null (no role) is cached too. */
  const roles = createTtlCache<OperatorRole | null>({ ttlMs: cacheMs, maxEntries: 10_000, clock });
  const roleKey = (operatorId: string, projectId: string) => `${operatorId}\0${projectId}`;

  // Each eviction runs after its write: a lookup that began earlier is discarded (epoch), one that begins later sees the write.
  function evictSessionsOf(operatorId: string): void {
    sessions.deleteWhere((v) => v.operatorId === operatorId);
  }
  function evictRolesOf(operatorId: string): void {
    roles.deleteWhere((_, key) => key.startsWith(`${operatorId}\0`));
  }

  async function grantsOf(operatorId: string): Promise<OperatorGrant[]> {
    const rows = await db.selectFrom('operator_roles').select(['project_id', 'role']).where('operator_id', '=', operatorId).orderBy('project_id').execute();
    return rows.filter((r) => isOperatorRole(r.role)).map((r) => ({ projectId: r.project_id, role: r.role as OperatorRole }));
  }

  async function summary(row: { id: string; email: string; totp_secret: string | null; created_at: string }): Promise<OperatorSummary> {
    return { id: row.id, email: row.email, totpEnabled: row.totp_secret !== null, createdAt: row.created_at, roles: await grantsOf(row.id) };
  }

  async function rowById(id: string) {
    return db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async function requireRow(id: string) {
    const row = await rowById(id);
    if (!row) throw new GatehouseError('not_found', { message: 'No such operator.' });
    return row;
  }

  let lastPrune = 0;
  /**
   * At most once an hour, on a sign-in: ended sessions (revoked, past their end, or idle too long)
   * and spent or expired setup tokens go, so the tables hold only what can still be used.
   */
  async function pruneNowAndThen(): Promise<void> {
    const now = clock.nowMs();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    const nowIso = new Date(now).toISOString();
    const idleSince = new Date(now - d.sessionIdleSeconds * 1000).toISOString();
    await db.deleteFrom('operator_sessions')
      .where((eb) => eb.or([eb('revoked_at', 'is not', null), eb('expires_at', '<=', nowIso), eb('last_seen_at', '<=', idleSince)]))
      .execute();
    await db.deleteFrom('operator_setup_tokens').where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', nowIso)])).execute();
  }

  async function openSession(operatorId: string, meta: SignInMeta): Promise<string> {
    await pruneNowAndThen();
    const sessionId = randomToken(32);
    const now = clock.nowMs();
    await db.insertInto('operator_sessions').values({
      id_hash: sha256Hex(sessionId), operator_id: operatorId, created_at: new Date(now).toISOString(), last_seen_at: new Date(now).toISOString(),
      expires_at: new Date(now + d.sessionMaxSeconds * 1000).toISOString(), revoked_at: null, ip: meta.ip, user_agent: meta.userAgent?.slice(0, 300) ?? null,
    }).execute();
    return sessionId;
  }

  /** Ends the operator's live sessions, but the one whose id is `keep` (this browser's), if given. */
  async function revokeSessions(operatorId: string, keep?: string): Promise<void> {
    let q = db.updateTable('operator_sessions').set({ revoked_at: isoNow(clock) }).where('operator_id', '=', operatorId).where('revoked_at', 'is', null);
    if (keep !== undefined) q = q.where('id_hash', '!=', sha256Hex(keep));
    await q.execute();
    evictSessionsOf(operatorId);
  }

  /**
   * An account change asks for the current password: a stolen cookie alone must not be enough to
   * change the password or the second factor and lock the owner out.
   */
  async function requireCurrentPassword(row: { id: string; password_hash: string }, current: unknown, reason: string, meta: SignInMeta): Promise<void> {
    if (!(await hasher.verify(row.password_hash, typeof current === 'string' ? current : ''))) {
      events.record('operator_sign_in_failed', { ip: meta.ip, requestId: meta.requestId, details: { reason, operator_id: row.id } });
      throw new GatehouseError('invalid_credentials', { status: 401, message: 'The current password is wrong.' });
    }
  }

  async function assertProjectsExist(grants: readonly { projectId: string }[]): Promise<void> {
    if (grants.length === 0) return;
    const ids = grants.map((g) => g.projectId);
    const found = await db.selectFrom('projects').select('id').where('id', 'in', ids).execute();
    const missing = ids.find((id) => !found.some((f) => f.id === id));
    if (missing) throw invalid('roles', `names a project that does not exist: ${missing}`);
  }

  async function insertOperator(email: string, passwordHash: string, grants: readonly OperatorGrant[], trx: Kysely<Database> = db): Promise<string> {
    const id = newId('op');
    const now = isoNow(clock);
    try {
      await trx.insertInto('operators').values({
        id, email, password_hash: passwordHash, totp_secret: null, totp_pending: null, totp_last_step: null, created_at: now, updated_at: now,
      }).execute();
    } catch (error) {
      if (await trx.selectFrom('operators').select('id').where('email', '=', email).executeTakeFirst()) {
        throw new GatehouseError('conflict', { message: 'An operator with this email exists.', cause: error });
      }
      throw error;
    }
    if (grants.length > 0) {
      await trx.insertInto('operator_roles').values(grants.map((g) => ({ operator_id: id, project_id: g.projectId, role: g.role }))).execute();
    }
    return id;
  }

  /** Checks a TOTP code against a sealed secret and spends its step; false for a wrong or replayed one. */
  async function spendCode(row: { id: string; totp_last_step: number | string | null }, sealed: string, code: unknown): Promise<boolean> {
    const secret = await keyring.decryptString(SEAL_SCOPE, sealed, sealContext(row.id));
    const step = verifyTotp(secret, code, clock.nowMs());
    if (step === null) return false;
    const last = row.totp_last_step === null ? null : Number(row.totp_last_step);
    if (last !== null && step <= last) return false;
    // Compare-and-set: two requests with the same code race; exactly one moves the step.
    const moved = await db.updateTable('operators').set({ totp_last_step: step })
      .where('id', '=', row.id)
      .where((eb) => (last === null ? eb('totp_last_step', 'is', null) : eb('totp_last_step', '=', last)))
      .executeTakeFirst();
    return Number(moved.numUpdatedRows) === 1;
  }

  return {
    async setupNeeded(): Promise<boolean> {
      return (await db.selectFrom('operators').select('id').limit(1).executeTakeFirst()) === undefined;
    },

    /**
     * A new one-time setup token while no operator exists (null once one does). Earlier unused
     * tokens stop working: only the link printed last is live. The caller prints it once.
     */
    async issueSetupToken(): Promise<string | null> {
      if (!(await this.setupNeeded())) return null;
      const token = randomToken(32);
      const now = clock.nowMs();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('operator_setup_tokens').where('used_at', 'is', null).execute();
        await trx.insertInto('operator_setup_tokens').values({
          token_hash: sha256Hex(token), created_at: new Date(now).toISOString(), expires_at: new Date(now + d.setupTokenTtlSeconds * 1000).toISOString(), used_at: null,
        }).execute();
      });
      return token;
    },

    /** The first operator, from the setup link: owner of every project, signed in. */
    async completeSetup(input: { token: unknown; email: unknown; password: unknown }, meta: SignInMeta): Promise<SignedInOperator> {
      const email = normalizeEmail(input.email);
      if (typeof input.password !== 'string') throw invalid('password', 'is required');
      assertPasswordAcceptable(input.password);
      const token = typeof input.token === 'string' ? input.token : '';
      const refuse = (reason: string) => {
        events.record('operator_setup_rejected', { ip: meta.ip, requestId: meta.requestId, details: { reason } });
        return new GatehouseError('forbidden', { message: 'The setup link is not valid: it is wrong, used or expired. Restart the server for a new one, or use `gatehouse operators add`.' });
      };
      const nowIso = isoNow(clock);
      // A cheap look first: a wrong, used or expired token must not cost an Argon2 hash (anyone
      // can post to /setup). The transaction below still spends it, so two racing posts get one.
      const live = await db.selectFrom('operator_setup_tokens').select('token_hash')
        .where('token_hash', '=', sha256Hex(token)).where('used_at', 'is', null).where('expires_at', '>', nowIso)
        .executeTakeFirst();
      if (!live) throw refuse('token');
      // Hash before the transaction: Argon2 must not run inside it (a long lock on SQLite).
      const passwordHash = await hasher.hash(input.password);
      const id = await db.transaction().execute(async (trx) => {
        if (await trx.selectFrom('operators').select('id').limit(1).executeTakeFirst()) throw refuse('operator_exists');
        const spent = await trx.updateTable('operator_setup_tokens').set({ used_at: nowIso })
          .where('token_hash', '=', sha256Hex(token)).where('used_at', 'is', null).where('expires_at', '>', nowIso)
          .executeTakeFirst();
        if (Number(spent.numUpdatedRows) !== 1) throw refuse('token');
        const projects = await trx.selectFrom('projects').select('id').execute();
        return insertOperator(email, passwordHash, projects.map((p) => ({ projectId: p.id, role: 'owner' as const })), trx);
      });
      const operator = await summary(await requireRow(id));
      return { operator, sessionId: await openSession(id, meta) };
    },

    /**
     * Email and password, then the TOTP code if the operator has one. Failures back off like end
     * users' sign-ins (same counters, their own scope); a missing code is not a failure, a wrong
     * one is.
     */
    async signIn(input: { email: unknown; password: unknown; totp?: unknown }, meta: SignInMeta): Promise<SignedInOperator> {
      const wrong = () => new GatehouseError('invalid_credentials', { status: 401, message: 'Wrong email or password.' });
      let email: string;
      try {
        email = normalizeEmail(input.email);
      } catch {
        throw wrong();
      }
      const password = typeof input.password === 'string' ? input.password : '';
      const subject = { ...BACKOFF_SCOPE, account: email, ip: meta.ip, requestId: meta.requestId };
      await backoff.check(subject);
      const row = await db.selectFrom('operators').selectAll().where('email', '=', email).executeTakeFirst();
      // Unknown email: the hasher burns the same time, so timing does not tell who is an operator.
      const ok = await hasher.verify(row?.password_hash ?? null, password);
      if (!row || !ok) {
        await backoff.failed(subject);
        events.record('operator_sign_in_failed', { ip: meta.ip, requestId: meta.requestId, details: { reason: 'password' } });
        throw wrong();
      }
      if (row.totp_secret !== null) {
        if (input.totp === undefined || input.totp === null || input.totp === '') {
          throw new GatehouseError('totp_required');
        }
        if (!(await spendCode(row, row.totp_secret, input.totp))) {
          await backoff.failed(subject);
          events.record('operator_sign_in_failed', { ip: meta.ip, requestId: meta.requestId, details: { reason: 'totp', operator_id: row.id } });
          throw new GatehouseError('totp_required', { message: 'The code is wrong, expired or already used.' });
        }
      }
      await backoff.succeeded(subject);
      return { operator: await summary(row), sessionId: await openSession(row.id, meta) };
    },

    /** The live session behind a cookie's id, or null (unknown, revoked, idle too long, past its end, operator gone). */
    async session(sessionId: string): Promise<LiveOperatorSession | null> {
      if (sessionId.length !== 43) return null;
      const idHash = sha256Hex(sessionId);
      let live = sessions.get(idHash);
      if (!live) {
        const since = sessions.epoch();
        const row = await db.selectFrom('operator_sessions')
          .innerJoin('operators', 'operators.id', 'operator_sessions.operator_id')
          .select(['operator_sessions.last_seen_at', 'operator_sessions.expires_at', 'operator_sessions.revoked_at',
            'operators.id', 'operators.email', 'operators.totp_secret'])
          .where('operator_sessions.id_hash', '=', idHash)
          .executeTakeFirst();
        // Only live sessions are cached: a flood of made-up cookies must not push them out.
        if (!row || row.revoked_at !== null) return null;
        live = { operatorId: row.id, email: row.email, totpEnabled: row.totp_secret !== null, lastSeenMs: Date.parse(row.last_seen_at), expiresMs: Date.parse(row.expires_at) };
        sessions.set(idHash, live, { since });
      }
      // The ends are checked on every call, cached or not: a cached session still ends on time.
      const now = clock.nowMs();
      if (now >= live.expiresMs || now >= live.lastSeenMs + d.sessionIdleSeconds * 1000) return null;
      if (now - live.lastSeenMs >= TOUCH_EVERY_MS) {
        live.lastSeenMs = now;
        await db.updateTable('operator_sessions').set({ last_seen_at: new Date(now).toISOString() }).where('id_hash', '=', idHash).execute();
      }
      return { operator: { id: live.operatorId, email: live.email, totpEnabled: live.totpEnabled }, csrfToken: csrfTokenOf(sessionId) };
    },

    async signOut(sessionId: string): Promise<void> {
      await db.updateTable('operator_sessions').set({ revoked_at: isoNow(clock) }).where('id_hash', '=', sha256Hex(sessionId)).where('revoked_at', 'is', null).execute();
      sessions.delete(sha256Hex(sessionId));
    },

    grants: grantsOf,

    async roleIn(operatorId: string, projectId: string): Promise<OperatorRole | null> {
      const key = roleKey(operatorId, projectId);
      const hit = roles.get(key);
      if (hit !== undefined) return hit;
      const since = roles.epoch();
      const row = await db.selectFrom('operator_roles').select('role').where('operator_id', '=', operatorId).where('project_id', '=', projectId).executeTakeFirst();
      const role = row && isOperatorRole(row.role) ? row.role : null;
      roles.set(key, role, { since });
      return role;
    },

    async get(id: string): Promise<OperatorSummary | null> {
      const row = await rowById(id);
      return row ? summary(row) : null;
    },

    async findByEmail(email: string): Promise<OperatorSummary | null> {
      const row = await db.selectFrom('operators').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
      return row ? summary(row) : null;
    },

    async list(): Promise<OperatorSummary[]> {
      const rows = await db.selectFrom('operators').selectAll().orderBy('created_at').orderBy('id').execute();
      return Promise.all(rows.map(summary));
    },

    async add(input: { email: unknown; password: unknown; roles: unknown }): Promise<OperatorSummary> {
      const email = normalizeEmail(input.email);
      if (typeof input.password !== 'string') throw invalid('password', 'is required');
      assertPasswordAcceptable(input.password);
      const grants = parseRoleChanges(input.roles, { removals: false });
      await assertProjectsExist(grants);
      const id = await insertOperator(email, await hasher.hash(input.password), grants);
      return summary(await requireRow(id));
    },

    /** Sets or removes (role null) the operator's role in each project named; others stay. */
    async setRoles(id: string, changes: ReadonlyArray<{ projectId: string; role: OperatorRole | null }>): Promise<OperatorSummary> {
      await requireRow(id);
      await assertProjectsExist(changes);
      await db.transaction().execute(async (trx) => {
        for (const change of changes) {
          await trx.deleteFrom('operator_roles').where('operator_id', '=', id).where('project_id', '=', change.projectId).execute();
          if (change.role !== null) await trx.insertInto('operator_roles').values({ operator_id: id, project_id: change.projectId, role: change.role }).execute();
        }
      });
      evictRolesOf(id);
      return summary(await requireRow(id));
    },

    /** Removes the operator; its sessions end with it (deleted by the foreign key, refused by session()). */
    async remove(id: string): Promise<void> {
      await requireRow(id);
      await revokeSessions(id);
      await db.deleteFrom('operators').where('id', '=', id).execute();
      evictSessionsOf(id);
      evictRolesOf(id);
    },

    /** A new password ends every session of the operator. */
    async setPassword(id: string, password: unknown): Promise<void> {
      if (typeof password !== 'string') throw invalid('password', 'is required');
      assertPasswordAcceptable(password);
      await requireRow(id);
      const hash = await hasher.hash(password);
      await db.updateTable('operators').set({ password_hash: hash, updated_at: isoNow(clock) }).where('id', '=', id).execute();
      await revokeSessions(id);
    },

    /**
     * The operator changes its own password: the current one first (so a session left open is not
     * enough to lock its owner out). Every session ends, and this browser gets a new one.
     */
    async changePassword(id: string, current: unknown, next: unknown, meta: SignInMeta): Promise<SignedInOperator> {
      await requireCurrentPassword(await requireRow(id), current, 'password_change', meta);
      await this.setPassword(id, next);
      return { operator: await summary(await requireRow(id)), sessionId: await openSession(id, meta) };
    },

    /**
     * Starts (or restarts) an enrolment, with the current password: the secret is shown now, and
     * works once confirmed by a code.
     */
    async totpEnroll(id: string, currentPassword: unknown, meta: SignInMeta): Promise<{ secret: string; otpauthUrl: string }> {
      const row = await requireRow(id);
      await requireCurrentPassword(row, currentPassword, 'totp_enroll', meta);
      if (row.totp_secret !== null) throw new GatehouseError('conflict', { message: 'A second factor is already on; disable it first.' });
      const secret = newTotpSecret();
      const sealed = await keyring.encrypt(SEAL_SCOPE, secret, sealContext(id));
      await db.updateTable('operators').set({ totp_pending: sealed, updated_at: isoNow(clock) }).where('id', '=', id).execute();
      return { secret, otpauthUrl: totpUrl(secret, row.email) };
    },

    /**
     * Turns the second factor on. Every other session of the operator ends (`keepSessionId`, this
     * browser's, stays): whoever else held a session got in without the factor now required.
     */
    async totpConfirm(id: string, code: unknown, keepSessionId: string): Promise<void> {
      const row = await requireRow(id);
      if (row.totp_pending === null) throw new GatehouseError('conflict', { message: 'No enrolment to confirm: enroll first.' });
      if (!(await spendCode(row, row.totp_pending, code))) throw new GatehouseError('totp_required', { message: 'The code is wrong, expired or already used.' });
      await db.updateTable('operators').set({ totp_secret: row.totp_pending, totp_pending: null, updated_at: isoNow(clock) }).where('id', '=', id).execute();
      await revokeSessions(id, keepSessionId);
    },

    /** Turns the second factor off: the current password and a current code. */
    async totpDisable(id: string, code: unknown, currentPassword: unknown, meta: SignInMeta): Promise<void> {
      const row = await requireRow(id);
      await requireCurrentPassword(row, currentPassword, 'totp_disable', meta);
      if (row.totp_secret === null) throw new GatehouseError('conflict', { message: 'No second factor is on.' });
      if (!(await spendCode(row, row.totp_secret, code))) throw new GatehouseError('totp_required', { message: 'The code is wrong, expired or already used.' });
      await db.updateTable('operators').set({ totp_secret: null, totp_pending: null, totp_last_step: null, updated_at: isoNow(clock) }).where('id', '=', id).execute();
      evictSessionsOf(id); // the cached sessions still say the factor is on
    },

    /** For an operator who lost their authenticator (CLI): the second factor goes, and so do their sessions. */
    async resetTotp(id: string): Promise<void> {
      await requireRow(id);
      await db.updateTable('operators').set({ totp_secret: null, totp_pending: null, totp_last_step: null, updated_at: isoNow(clock) }).where('id', '=', id).execute();
      await revokeSessions(id);
    },
  };
}

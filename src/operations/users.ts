import { normalizeEmail, type UserRow } from '../identity/index.js';
import { actorOf, requireEveryScope, requireSecretKey } from './principal.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

export type UserRole = 'authenticated' | 'admin';
const ROLES: readonly string[] = ['authenticated', 'admin'];
export const MAX_USERS_PER_PAGE = 500;

function checkRole(role: string): asserts role is UserRole {
  if (!ROLES.includes(role)) throw invalid('role', 'must be admin or authenticated');
}

/** End users of a project environment and their sessions. */
export function userOperations(deps: Pick<OperationsDeps, 'identity' | 'llm' | 'events' | 'files'>, audit: Audit) {
  const { identity } = deps;

  async function byId(ctx: ActionContext, id: string): Promise<UserRow> {
    const row = await identity.users.byId(ctx.projectId, ctx.environment, id);
    if (!row) throw notFound('No such user in this project environment.');
    return row;
  }

  return {
    async list(ctx: ActionContext, page: { limit?: number | undefined; offset?: number | undefined; email?: string | undefined } = {}) {
      const limit = page.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_USERS_PER_PAGE) throw invalid('limit', `must be 1 to ${MAX_USERS_PER_PAGE}`);
      return identity.users.list(ctx.projectId, ctx.environment, { limit, offset: page.offset ?? 0, email: page.email?.trim().toLowerCase() });
    },

    get: byId,

    /** A user by id (usr_…) or email, for front ends that let a person name users either way. */
    async find(ctx: ActionContext, ref: string): Promise<UserRow> {
      const row = ref.startsWith('usr_')
        ? await identity.users.byId(ctx.projectId, ctx.environment, ref)
        : await identity.users.byEmail(ctx.projectId, ctx.environment, normalizeEmail(ref));
      if (!row) throw notFound(`No user "${ref}" in this project environment.`);
      return row;
    },

    /** Creating an admin hands out the whole admin role, which no scope list bounds. */
    async create(ctx: ActionContext, input: { email: string; password: string; role?: string | undefined; data?: Record<string, unknown> | undefined }) {
      if (input.role !== undefined) checkRole(input.role);
      if (input.role === 'admin') requireEveryScope(ctx.principal, 'Only a secret key with every scope can create admin users.');
      const row = await identity.accounts.create({ projectId: ctx.projectId, environment: ctx.environment }, input);
      await audit(ctx, { action: 'user.create', target: row.id, details: { role: row.role } });
      return row;
    },

    /**
     * Granting admin is a secret-key act: an admin user cannot mint more admins. Nor can a key
     * scoped to admin:users: the new admin would hold every admin scope that key lacks.
     */
    async setRole(ctx: ActionContext, userId: string, role: string) {
      checkRole(role);
      if (role === 'admin') requireEveryScope(ctx.principal, 'Only a secret key with every scope can grant the admin role.');
      else requireSecretKey(ctx.principal, 'Only a secret key can change user roles.');
      const row = await byId(ctx, userId);
      const updated = await identity.accounts.setRole({ projectId: ctx.projectId, environment: ctx.environment }, row.id, role);
      await audit(ctx, { action: 'user.set_role', target: row.id, details: { role } });
      return updated;
    },

    /**
     * Logged prompts and completions are the user's content: they go with the user. Usage rows
     * and resource records hold counts and ids only, and stay for accounting. Stored files go too
     * (or, with storage.onUserDelete = keep, stay without an owner), audited by the storage service.
     */
    async remove(ctx: ActionContext, userId: string): Promise<void> {
      if (!(await identity.users.remove(ctx.projectId, ctx.environment, userId))) throw notFound('No such user in this project environment.');
      const purged = await deps.llm.requestLog.purge(ctx.projectId, ctx.environment, userId);
      // The deletion is audited before the files are handled: a storage outage must not leave it unrecorded.
      await audit(ctx, { action: 'user.delete', target: userId, details: { llm_request_log_entries_deleted: purged } });
      // Audited on its own (storage.user_objects.deleted or .kept, with the count).
      await deps.files.forgetUser(ctx.projectId, ctx.environment, userId, actorOf(ctx.principal));
    },

    /** Allows an email to sign up while sign-up mode is invite. */
    async invite(ctx: ActionContext, rawEmail: string): Promise<string> {
      const email = normalizeEmail(rawEmail);
      await identity.signup.invite(ctx.projectId, ctx.environment, email);
      await audit(ctx, { action: 'user.invite', target: email });
      return email;
    },

    sessions(ctx: ActionContext, userId: string) {
      return identity.sessions.list(ctx.projectId, ctx.environment, userId);
    },

    async revokeSessions(ctx: ActionContext, userId: string): Promise<number> {
      const revoked = await identity.sessions.revokeAllOfUser(ctx.projectId, ctx.environment, userId, 'revoked_by_admin');
      await audit(ctx, { action: 'user.sessions_revoke', target: userId, details: { revoked } });
      return revoked;
    },

    async revokeSession(ctx: ActionContext, sessionId: string) {
      const session = await identity.sessions.get(ctx.projectId, ctx.environment, sessionId);
      if (!session) throw notFound('No such session in this project environment.');
      await identity.sessions.revoke(ctx.projectId, ctx.environment, session.id, 'revoked_by_admin');
      deps.events.record('session_revoked', {
        projectId: ctx.projectId, environment: ctx.environment, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null,
        details: { session_id: session.id, by: actorOf(ctx.principal) },
      });
      await audit(ctx, { action: 'session.revoke', target: session.id });
      return (await identity.sessions.get(ctx.projectId, ctx.environment, session.id))!;
    },
  };
}

import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/index.js';
import type { IdentityUsersTable } from '../tables.js';

export type UserRow = Selectable<IdentityUsersTable>;

/**
 * The users table; scoped to one project environment on every call.
 * `onChange` runs after a user's row changes or goes: caches that derived
 * something from it (the role behind a session) must forget it.
 */
export function createUserStore(db: Kysely<Database>, onChange: (projectId: string, environment: string, id: string) => void = () => {}) {
  const scoped = (projectId: string, environment: string) =>
    db.selectFrom('identity_users').selectAll().where('project_id', '=', projectId).where('environment', '=', environment);
  return {
    byId: async (projectId: string, environment: string, id: string): Promise<UserRow | null> =>
      (await scoped(projectId, environment).where('id', '=', id).executeTakeFirst()) ?? null,
    byEmail: async (projectId: string, environment: string, email: string): Promise<UserRow | null> =>
      (await scoped(projectId, environment).where('email', '=', email).executeTakeFirst()) ?? null,
    byExternal: async (projectId: string, environment: string, issuerId: string, sub: string): Promise<UserRow | null> =>
      (await scoped(projectId, environment).where('issuer_id', '=', issuerId).where('external_sub', '=', sub).executeTakeFirst()) ?? null,
    list: (projectId: string, environment: string, options: { limit: number; offset: number; email?: string }) => {
      let q = scoped(projectId, environment).orderBy('created_at', 'asc').orderBy('id', 'asc').limit(options.limit).offset(options.offset);
      if (options.email) q = q.where('email', '=', options.email);
      return q.execute();
    },
    insert: async (row: UserRow): Promise<void> => {
      await db.insertInto('identity_users').values(row).execute();
    },
    update: async (projectId: string, environment: string, id: string, patch: Partial<Omit<UserRow, 'id' | 'project_id' | 'environment'>>): Promise<void> => {
      await db.updateTable('identity_users').set(patch).where('id', '=', id).where('project_id', '=', projectId).where('environment', '=', environment).execute();
      onChange(projectId, environment, id);
    },
    /**
     * Applies `patch` only while the user's pending email change is still the one given
     * (a compare-and-set): a change cancelled or replaced meanwhile is not confirmed.
     */
    updateIfEmailChange: async (
      projectId: string, environment: string, id: string, pending: { email_change: string; email_change_sent_at: string },
      patch: Partial<Omit<UserRow, 'id' | 'project_id' | 'environment'>>,
    ): Promise<boolean> => {
      const r = await db.updateTable('identity_users').set(patch).where('id', '=', id).where('project_id', '=', projectId).where('environment', '=', environment)
        .where('email_change', '=', pending.email_change).where('email_change_sent_at', '=', pending.email_change_sent_at).executeTakeFirst();
      onChange(projectId, environment, id);
      return Number(r.numUpdatedRows) === 1;
    },
    remove: async (projectId: string, environment: string, id: string): Promise<boolean> => {
      const r = await db.deleteFrom('identity_users').where('id', '=', id).where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
      onChange(projectId, environment, id);
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;

/** Unique-constraint violation on either engine (SQLite: SQLITE_CONSTRAINT_UNIQUE; PostgreSQL: 23505). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

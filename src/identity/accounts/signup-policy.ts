import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { GatehouseError } from '../../errors/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';

export type SignupMode = 'open' | 'invite' | 'closed';
export const SIGNUP_MODES: readonly SignupMode[] = ['open', 'invite', 'closed'];

export interface SignupPolicy {
  mode(projectId: string, environment: string): Promise<SignupMode>;
  setMode(projectId: string, environment: string, mode: SignupMode): Promise<void>;
  invite(projectId: string, environment: string, email: string): Promise<void>;
  listInvites(projectId: string, environment: string): Promise<Array<{ email: string; created_at: string; used_at: string | null }>>;
  /**
   * Throws signup_disabled unless this email may sign up now, without consuming anything. Run
   * before anything looks at existing accounts: a closed or invite-only environment must not
   * tell a stranger which addresses have an account.
   */
  check(projectId: string, environment: string, email: string): Promise<void>;
  /** Throws signup_disabled unless this email may sign up now; consumes an invite. */
  admit(projectId: string, environment: string, email: string): Promise<void>;
}

const invitationOnly = () => new GatehouseError('signup_disabled', { message: 'Sign-ups are by invitation only.' });

export function createSignupPolicy({ db, clock, defaultMode }: { db: Kysely<Database>; clock: Clock; defaultMode: SignupMode }): SignupPolicy {
  const policy: SignupPolicy = {
    async mode(projectId, environment) {
      const row = await db.selectFrom('identity_settings').select('signup_mode').where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
      return (row?.signup_mode as SignupMode | undefined) ?? defaultMode;
    },
    async setMode(projectId, environment, mode) {
      const now = isoNow(clock);
      await db.insertInto('identity_settings').values({ project_id: projectId, environment, signup_mode: mode, updated_at: now })
        .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet({ signup_mode: mode, updated_at: now })).execute();
    },
    async invite(projectId, environment, email) {
      await db.insertInto('identity_invites').values({ project_id: projectId, environment, email, created_at: isoNow(clock), used_at: null })
        .onConflict((oc) => oc.columns(['project_id', 'environment', 'email']).doUpdateSet({ used_at: null })).execute();
    },
    async listInvites(projectId, environment) {
      return db.selectFrom('identity_invites').select(['email', 'created_at', 'used_at']).where('project_id', '=', projectId).where('environment', '=', environment).orderBy('created_at', 'desc').execute();
    },
    async check(projectId, environment, email) {
      const mode = await policy.mode(projectId, environment);
      if (mode === 'open') return;
      if (mode === 'invite') {
        const invite = await db.selectFrom('identity_invites').select('email')
          .where('project_id', '=', projectId).where('environment', '=', environment).where('email', '=', email).where('used_at', 'is', null)
          .executeTakeFirst();
        if (invite) return;
        throw invitationOnly();
      }
      throw new GatehouseError('signup_disabled');
    },
    async admit(projectId, environment, email) {
      const mode = await policy.mode(projectId, environment);
      if (mode === 'open') return;
      if (mode === 'invite') {
        const used = await db.updateTable('identity_invites').set({ used_at: isoNow(clock) })
          .where('project_id', '=', projectId).where('environment', '=', environment).where('email', '=', email).where('used_at', 'is', null)
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) === 1) return;
        throw invitationOnly();
      }
      throw new GatehouseError('signup_disabled');
    },
  };
  return policy;
}

// SQL access for per-environment policy patches and subject overrides. No HTTP, no caching.
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';

export interface StoredPolicy {
  policy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface StoredOverride {
  subject: string;
  limits: string;
  updatedAt: string;
  updatedBy: string;
}

export interface LimitSettingsStore {
  getPolicy(projectId: string, environment: string): Promise<StoredPolicy | null>;
  putPolicy(projectId: string, environment: string, row: StoredPolicy): Promise<void>;
  deletePolicy(projectId: string, environment: string): Promise<boolean>;
  listOverrides(projectId: string, environment: string): Promise<StoredOverride[]>;
  putOverride(projectId: string, environment: string, row: StoredOverride): Promise<void>;
  deleteOverride(projectId: string, environment: string, subject: string): Promise<boolean>;
}

export function createLimitSettingsStore(db: Kysely<Database>): LimitSettingsStore {
  return {
    async getPolicy(projectId, environment) {
      const row = await db
        .selectFrom('rate_limit_policies')
        .select(['policy', 'updated_at', 'updated_by'])
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .executeTakeFirst();
      return row ? { policy: row.policy, updatedAt: row.updated_at, updatedBy: row.updated_by } : null;
    },
    async putPolicy(projectId, environment, row) {
      const values = { policy: row.policy, updated_at: row.updatedAt, updated_by: row.updatedBy };
      // ON CONFLICT works the same on SQLite (>= 3.24) and PostgreSQL.
      await db
        .insertInto('rate_limit_policies')
        .values({ project_id: projectId, environment, ...values })
        .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet(values))
        .execute();
    },
    async deletePolicy(projectId, environment) {
      const result = await db
        .deleteFrom('rate_limit_policies')
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async listOverrides(projectId, environment) {
      const rows = await db
        .selectFrom('rate_limit_overrides')
        .select(['subject', 'limits', 'updated_at', 'updated_by'])
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .orderBy('subject')
        .execute();
      return rows.map((r) => ({ subject: r.subject, limits: r.limits, updatedAt: r.updated_at, updatedBy: r.updated_by }));
    },
    async putOverride(projectId, environment, row) {
      const values = { limits: row.limits, updated_at: row.updatedAt, updated_by: row.updatedBy };
      await db
        .insertInto('rate_limit_overrides')
        .values({ project_id: projectId, environment, subject: row.subject, ...values })
        .onConflict((oc) => oc.columns(['project_id', 'environment', 'subject']).doUpdateSet(values))
        .execute();
    },
    async deleteOverride(projectId, environment, subject) {
      const result = await db
        .deleteFrom('rate_limit_overrides')
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

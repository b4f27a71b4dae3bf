import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import type { Reference } from './resource-kinds.js';

export interface ResourceScope {
  projectId: string;
  environment: string;
  provider: string;
}

/** Who created which provider resource. Lookups go by id: provider ids are unique per provider. */
export interface ResourceStore {
  /** id → owner, for the ids that are recorded. */
  owners(scope: ResourceScope, ids: readonly string[]): Promise<Map<string, string>>;
  /** Records new resources; an id already recorded keeps its first owner. */
  record(scope: ResourceScope, owner: string, resources: readonly Reference[]): Promise<void>;
  remove(scope: ResourceScope, owner: string, id: string): Promise<void>;
  listByOwner(scope: ResourceScope, owner: string, limit: number): Promise<Array<{ id: string; kind: string; createdAt: string }>>;
  /** id → owner, for the recorded ids whose token usage is not counted yet. */
  unaccounted(scope: ResourceScope, ids: readonly string[]): Promise<Map<string, string>>;
  /** Marks one resource's usage counted; true for exactly one caller, across requests and instances. */
  claimAccounting(scope: ResourceScope, id: string): Promise<boolean>;
  /**
   * Runs and responses of every scope still uncounted, created in [from, to], oldest first,
   * after the cursor if one is given (the sweep's work, page by page).
   */
  uncountedBetween(from: string, to: string, limit: number, after?: SweepCursor | null): Promise<UncountedResource[]>;
}

/** Where a sweep stopped: the last resource it looked at. */
export interface SweepCursor {
  createdAt: string;
  id: string;
}

export interface UncountedResource {
  scope: ResourceScope;
  id: string;
  kind: 'run' | 'response';
  /** A run's thread. */
  parent: string | null;
  owner: string;
  createdAt: string;
}

export function createResourceStore(db: Kysely<Database>, clock: Clock): ResourceStore {
  const where = (scope: ResourceScope) =>
    db.selectFrom('llm_resources')
      .where('project_id', '=', scope.projectId).where('environment', '=', scope.environment).where('provider', '=', scope.provider);
  return {
    async owners(scope, ids) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await where(scope).select(['resource_id', 'owner']).where('resource_id', 'in', unique).execute();
      return new Map(rows.map((r) => [r.resource_id, r.owner]));
    },
    async record(scope, owner, resources) {
      if (resources.length === 0) return;
      const seen = new Set<string>();
      const now = isoNow(clock);
      const values = resources.filter((r) => !seen.has(r.id) && seen.add(r.id)).map((r) => ({
        project_id: scope.projectId, environment: scope.environment, provider: scope.provider,
        resource_id: r.id, resource_type: r.kind, owner, created_at: now, parent_id: r.parent ?? null,
      }));
      // Never reassign: a response that repeats someone else's id must not hand it over.
      await db.insertInto('llm_resources').values(values)
        .onConflict((oc) => oc.columns(['project_id', 'environment', 'provider', 'resource_id']).doNothing())
        .execute();
    },
    async remove(scope, owner, id) {
      await db.deleteFrom('llm_resources')
        .where('project_id', '=', scope.projectId).where('environment', '=', scope.environment).where('provider', '=', scope.provider)
        .where('resource_id', '=', id).where('owner', '=', owner)
        .execute();
    },
    async unaccounted(scope, ids) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await where(scope).select(['resource_id', 'owner']).where('resource_id', 'in', unique).where('accounted_at', 'is', null).execute();
      return new Map(rows.map((r) => [r.resource_id, r.owner]));
    },
    async claimAccounting(scope, id) {
      // Compare-and-set: of two concurrent polls of a settled run, only one updates the row.
      const result = await db.updateTable('llm_resources').set({ accounted_at: isoNow(clock) })
        .where('project_id', '=', scope.projectId).where('environment', '=', scope.environment).where('provider', '=', scope.provider)
        .where('resource_id', '=', id).where('accounted_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async uncountedBetween(from, to, limit, after) {
      let query = db.selectFrom('llm_resources')
        .select(['project_id', 'environment', 'provider', 'resource_id', 'resource_type', 'parent_id', 'owner', 'created_at'])
        .where('accounted_at', 'is', null).where('resource_type', 'in', ['run', 'response'])
        // A run recorded without its thread (before migration 0008) cannot be fetched.
        .where((eb) => eb.or([eb('resource_type', '=', 'response'), eb('parent_id', 'is not', null)]))
        .where('created_at', '>=', from).where('created_at', '<=', to);
      if (after) {
        query = query.where((eb) => eb.or([
          eb('created_at', '>', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('resource_id', '>', after.id)]),
        ]));
      }
      const rows = await query.orderBy('created_at', 'asc').orderBy('resource_id', 'asc').limit(limit).execute();
      return rows.map((r) => ({
        scope: { projectId: r.project_id, environment: r.environment, provider: r.provider },
        id: r.resource_id, kind: r.resource_type as 'run' | 'response', parent: r.parent_id, owner: r.owner, createdAt: r.created_at,
      }));
    },
    async listByOwner(scope, owner, limit) {
      const rows = await where(scope).select(['resource_id', 'resource_type', 'created_at']).where('owner', '=', owner)
        .orderBy('created_at', 'desc').limit(limit).execute();
      return rows.map((r) => ({ id: r.resource_id, kind: r.resource_type, createdAt: r.created_at }));
    },
  };
}

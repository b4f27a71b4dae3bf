import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { isoNow, type Clock } from '../shared/clock.js';

export interface AuditEntry {
  projectId: string;
  environment?: string | null;
  /** `key:<id>`, `user:<id>` or `cli`. */
  actor: string;
  action: string;
  target?: string | null;
  /** Never a secret. */
  details?: Record<string, unknown>;
}

export interface AuditLog {
  write(entry: AuditEntry): Promise<void>;
  list(projectId: string, environment: string, options?: { limit?: number; beforeId?: number }): Promise<
    Array<{ id: number; actor: string; action: string; target: string | null; details: unknown; created_at: string }>
  >;
}

/** Who changed what: written in the same request as the change, unlike security events. */
export function createAuditLog({ db, clock }: { db: Kysely<Database>; clock: Clock }): AuditLog {
  return {
    async write(entry) {
      await db
        .insertInto('audit_log')
        .values({
          project_id: entry.projectId,
          environment: entry.environment ?? null,
          actor: entry.actor,
          action: entry.action,
          target: entry.target ?? null,
          details: JSON.stringify(entry.details ?? {}),
          created_at: isoNow(clock),
        })
        .execute();
    },
    async list(projectId, environment, options = {}) {
      let query = db
        .selectFrom('audit_log')
        .select(['id', 'actor', 'action', 'target', 'details', 'created_at'])
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('environment', '=', environment), eb('environment', 'is', null)]))
        .orderBy('id', 'desc')
        .limit(Math.min(options.limit ?? 100, 1000));
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      const rows = await query.execute();
      return rows.map((r) => ({ ...r, id: Number(r.id), details: JSON.parse(r.details) as unknown }));
    },
  };
}

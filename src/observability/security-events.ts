import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import { isoNow, type Clock } from '../shared/clock.js';

/** Things worth an operator's attention; stable names, used in queries and alerts. */
export type SecurityEventType =
  | 'api_key_rejected'
  | 'api_key_scope_denied'
  | 'secret_key_required'
  | 'origin_rejected'
  | 'malformed_request'
  | 'token_rejected'
  | 'sign_in_failed'
  | 'refresh_token_reused'
  | 'sign_up_rejected'
  | 'sign_in_backoff'
  | 'recovery_token_rejected'
  | 'email_change_rejected'
  | 'session_revoked'
  | 'signing_key_rotated'
  | 'rate_limited'
  | 'llm_endpoint_denied'
  | 'resource_access_denied';

export interface SecurityEventInput {
  projectId?: string | null;
  environment?: string | null;
  ip?: string | null;
  requestId?: string | null;
  /** Must never contain a secret: reasons, ids, prefixes only. */
  details?: Record<string, unknown>;
}

export interface SecurityEvents {
  record(type: SecurityEventType, input: SecurityEventInput): void;
  list(projectId: string, environment: string, options?: { limit?: number; beforeId?: number; type?: string }): Promise<
    Array<{ id: number; type: string; ip: string | null; request_id: string | null; details: unknown; created_at: string }>
  >;
  /** Resolves when pending writes are stored (tests, shutdown). */
  flush(): Promise<void>;
}

export function createSecurityEvents({ db, logger, clock }: { db: Kysely<Database>; logger: Logger; clock: Clock }): SecurityEvents {
  const pending = new Set<Promise<unknown>>();
  return {
    record(type, input) {
      logger.warn({ security_event: type, project: input.projectId, environment: input.environment, ip: input.ip, request_id: input.requestId, details: input.details }, 'security event');
      // Written off the request path: a flood of bad requests must not slow good ones.
      const write = db
        .insertInto('security_events')
        .values({
          project_id: input.projectId ?? null,
          environment: input.environment ?? null,
          type,
          ip: input.ip ?? null,
          request_id: input.requestId ?? null,
          details: JSON.stringify(input.details ?? {}),
          created_at: isoNow(clock),
        })
        .execute()
        .catch((error: unknown) => logger.error({ err: error }, 'could not store security event'))
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async list(projectId, environment, options = {}) {
      let query = db
        .selectFrom('security_events')
        .select(['id', 'type', 'ip', 'request_id', 'details', 'created_at'])
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .orderBy('id', 'desc')
        .limit(Math.min(options.limit ?? 100, 1000));
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.type) query = query.where('type', '=', options.type);
      const rows = await query.execute();
      return rows.map((r) => ({ ...r, id: Number(r.id), details: JSON.parse(r.details) as unknown }));
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}

// Opt-in logging of LLM proxy requests. Off by default; the entries hold users' prompts and
// completions, so reading or purging them is audited like a change.
import { MAX_BODY_BYTES_LIMIT, MAX_RETENTION_DAYS, type RequestLogSettings } from '../llm/request-log/index.js';
import { actorOf } from './principal.js';
import { invalid, type ActionContext, type Audit, type OperationsDeps } from './context.js';

export interface RequestLogChange {
  enabled: boolean;
  /** Required when enabling. */
  retentionDays?: number | undefined;
  maxBodyBytes?: number | undefined;
}

// An entry id (the previous page's next_before) or an ISO time.
const BEFORE = /^(req_[0-9a-z]{25}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))$/;
export const MAX_ENTRIES_PER_PAGE = 100;

function checkRange(field: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) throw invalid(field, `must be a whole number from ${min} to ${max}`);
}

export function requestLogOperations(deps: Pick<OperationsDeps, 'llm'>, audit: Audit) {
  const log = deps.llm.requestLog;

  return {
    settings(ctx: ActionContext): Promise<RequestLogSettings> {
      return log.getSettings(ctx.projectId, ctx.environment);
    },

    async putSettings(ctx: ActionContext, change: RequestLogChange): Promise<RequestLogSettings> {
      if (change.enabled && change.retentionDays === undefined) {
        throw invalid('retention_days', 'is required when enabled is true', 'retention_days is required when enabling request logging.');
      }
      checkRange('retention_days', change.retentionDays, 1, MAX_RETENTION_DAYS);
      checkRange('max_body_bytes', change.maxBodyBytes, 0, MAX_BODY_BYTES_LIMIT);
      const settings = await log.putSettings(ctx.projectId, ctx.environment, change, actorOf(ctx.principal));
      await audit(ctx, {
        action: 'llm_request_log.put', target: null,
        details: { enabled: settings.enabled, retention_days: settings.retentionDays, max_body_bytes: settings.maxBodyBytes },
      });
      return settings;
    },

    /** Newest first, bodies decrypted; reading users' prompts is itself worth a trail. */
    async entries(ctx: ActionContext, query: { userId?: string | undefined; limit?: number | undefined; before?: string | undefined }) {
      const { userId, limit = 20, before } = query;
      checkRange('limit', limit, 1, MAX_ENTRIES_PER_PAGE);
      if (before !== undefined && (!BEFORE.test(before) || (!before.startsWith('req_') && Number.isNaN(Date.parse(before))))) {
        throw invalid('before', 'is not an entry id or ISO date-time', 'before must be an entry id (next_before) or an ISO date-time.');
      }
      const entries = await log.list(ctx.projectId, ctx.environment, { limit, before, userId });
      await audit(ctx, { action: 'llm_request_log.read', target: userId ?? null, details: { count: entries.length } });
      return { entries, nextBefore: entries.length === limit ? entries.at(-1)!.id : null };
    },

    async purge(ctx: ActionContext, userId?: string): Promise<number> {
      const deleted = await log.purge(ctx.projectId, ctx.environment, userId);
      await audit(ctx, { action: 'llm_request_log.purge', target: userId ?? null, details: { deleted } });
      return deleted;
    },
  };
}

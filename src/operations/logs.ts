import type { ActionContext, OperationsDeps } from './context.js';

export interface Page {
  limit?: number | undefined;
  /** Entries with a smaller id than this (the last id of the previous page). */
  before?: number | undefined;
}

/** Reads of the trails: security events and the audit log of the acting environment. */
export function logOperations(deps: Pick<OperationsDeps, 'events' | 'audit'>) {
  return {
    securityEvents(ctx: ActionContext, query: Page & { type?: string | undefined }) {
      return deps.events.list(ctx.projectId, ctx.environment, { limit: query.limit, beforeId: query.before, type: query.type });
    },
    auditLog(ctx: ActionContext, query: Page) {
      return deps.audit.list(ctx.projectId, ctx.environment, { limit: query.limit, beforeId: query.before });
    },
  };
}

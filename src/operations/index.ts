// The operations layer: every administrative act, once. The admin API and the CLI (and later the
// dashboard and a remote CLI) parse their input, call an action with a principal and a project
// environment, and print the result; the action validates, checks the principal's power, acts
// and writes its audit entry. Actions throw GatehouseError, which each front end renders its way.
import { auditWith, type OperationsDeps, type OperationsOptions } from './context.js';
import { auditOperations } from './audit.js';
import { authOperations } from './auth.js';
import { keyOperations } from './keys.js';
import { limitOperations } from './limits.js';
import { logOperations } from './logs.js';
import { projectOperations } from './project.js';
import { providerOperations } from './providers.js';
import { realtimeOperations } from './realtime.js';
import { requestLogOperations } from './request-log.js';
import { rowOperations } from './rows.js';
import { schemaOperations } from './schema.js';
import { statsOperations } from './stats.js';
import { userOperations } from './users.js';
import { operatorOperations } from './operators.js';
import { requireChangePower } from './principal.js';
import type { ActionContext } from './context.js';

/**
 * The acts of each area that only read. Every other act refuses a dashboard viewer before it
 * runs, so a new act is closed to viewers until it is listed here.
 */
const READS = {
  keys: ['list'],
  users: ['list', 'find', 'sessions'],
  auth: ['signupMode', 'signingKeys', 'issuers'],
  providers: ['list', 'get', 'quotas', 'usage'],
  limits: ['view', 'effective', 'overrides'],
  schema: ['tables', 'document'],
  requestLog: ['settings', 'entries'],
  project: ['get'],
  logs: ['securityEvents', 'auditLog'],
  audit: ['verify', 'head', 'export'],
  rows: ['viewAs'],
  stats: ['series'],
  realtime: ['get'],
} as const;

/** Wraps every act of an area that is not a read with the viewer's refusal. */
function viewersRead<T extends object>(actions: T, reads: readonly string[]): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, act] of Object.entries(actions)) {
    guarded[name] = typeof act !== 'function' || reads.includes(name)
      ? act
      // async: a refusal is a rejected promise, as every act's own refusals are.
      : async (ctx: ActionContext | undefined, ...rest: unknown[]) => {
        requireChangePower(ctx?.principal);
        return (act as (...args: unknown[]) => unknown).call(actions, ctx, ...rest);
      };
  }
  return guarded as T;
}

export function createOperations(deps: OperationsDeps, options: OperationsOptions = {}) {
  const audit = auditWith(deps.audit);
  return {
    keys: viewersRead(keyOperations(deps, audit), READS.keys),
    users: viewersRead(userOperations(deps, audit), READS.users),
    auth: viewersRead(authOperations(deps, audit), READS.auth),
    providers: viewersRead(providerOperations(deps, audit), READS.providers),
    limits: viewersRead(limitOperations(deps, audit), READS.limits),
    schema: viewersRead(schemaOperations(deps, audit), READS.schema),
    rows: viewersRead(rowOperations(deps), READS.rows),
    requestLog: viewersRead(requestLogOperations(deps, audit), READS.requestLog),
    project: viewersRead(projectOperations(deps, audit, options), READS.project),
    logs: viewersRead(logOperations(deps), READS.logs),
    stats: viewersRead(statsOperations(deps), READS.stats),
    audit: viewersRead(auditOperations(deps), READS.audit),
    realtime: viewersRead(realtimeOperations(deps, audit), READS.realtime),
    operators: operatorOperations(deps),
  };
}

export type Operations = ReturnType<typeof createOperations>;

export type { ActionContext, OperationsDeps, OperationsOptions } from './context.js';
export { OPERATOR, actorOf, requireChangePower, type Principal } from './principal.js';
export type { OperatorActionContext, RoleChange } from './operators.js';
export { MAX_ROTATION_GRACE_SECONDS, type CreateKeyRequest } from './keys.js';
export { withClassChange, type ClassChange } from './limits.js';
export type { QuotaChange } from './providers.js';
export type { RequestLogChange } from './request-log.js';
export type { ApplyOptions } from './schema.js';
export type { AuditVerdict, ChainHeadView, ExportedEntry } from './audit.js';
export { backupSqlite, restoreSqlite, type BackupSummary, type Contents } from './backup.js';
export { backupPostgres, restorePostgres, type PgTools } from './backup-postgres.js';
export { MAX_USERS_PER_PAGE } from './users.js';
export type { ViewAs, ViewAsQuery } from './rows.js';
export { MAX_SERIES_POINTS, STATS_METRICS, type Series, type SeriesQuery, type StatsMetric } from './stats.js';

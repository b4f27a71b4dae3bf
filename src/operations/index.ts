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
import { requestLogOperations } from './request-log.js';
import { rowOperations } from './rows.js';
import { schemaOperations } from './schema.js';
import { statsOperations } from './stats.js';
import { userOperations } from './users.js';

export function createOperations(deps: OperationsDeps, options: OperationsOptions = {}) {
  const audit = auditWith(deps.audit);
  return {
    keys: keyOperations(deps, audit),
    users: userOperations(deps, audit),
    auth: authOperations(deps, audit),
    providers: providerOperations(deps, audit),
    limits: limitOperations(deps, audit),
    schema: schemaOperations(deps, audit),
    rows: rowOperations(deps),
    requestLog: requestLogOperations(deps, audit),
    project: projectOperations(deps, audit, options),
    logs: logOperations(deps),
    stats: statsOperations(deps),
    audit: auditOperations(deps),
  };
}

export type Operations = ReturnType<typeof createOperations>;

export type { ActionContext, OperationsDeps, OperationsOptions } from './context.js';
export { OPERATOR, actorOf, type Principal } from './principal.js';
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

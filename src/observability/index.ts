export { createLogger, redactUrl, REDACT_PATHS, wantsPrettyLogs, type LogFormat } from './logger.js';
export {
  createSecurityEvents, startSecurityEventPruning, type SecurityEvents, type SecurityEventType, type SecurityEventInput, type SecurityEventsOptions,
} from './security-events.js';
export { createAuditLog, type AuditLog, type AuditEntry, type ChainedEntry, type ChainHead } from './audit-log.js';
export { verifyAuditChain, type ChainReport, type ChainProblem } from './audit-verify.js';
export { auditEntryHash, GENESIS_HASH } from './audit-hash.js';
export { createMetrics, type BufferStats, type Metrics, type MetricsSources, type PoolStats } from './metrics.js';
export { noteFailure } from './metrics-http.js';
export type { LlmMetrics, UpstreamErrorKind } from './metrics-llm.js';
export type { AuthKind, AuthMetrics, DataMetrics, LimitMetrics, RowOperation } from './metrics-outcomes.js';
export { metricsRoutes, METRICS_SCOPE, type MetricsRouteOptions } from './metrics-route.js';
export { deferredChildLoggerFactory } from './request-logger.js';
export { OneLineRequestLog, logAbortedRequests } from './request-log.js';
export { createRequestStats, ACTIVE_SLOT, STATS_MINUTE, STATS_RETENTION_DAYS, type RequestStats, type RequestMetric, type SeriesRange } from './request-stats.js';

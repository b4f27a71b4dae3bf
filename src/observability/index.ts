export { createLogger, redactUrl, REDACT_PATHS, wantsPrettyLogs, type LogFormat } from './logger.js';
export {
  createSecurityEvents, startSecurityEventPruning, type SecurityEvents, type SecurityEventType, type SecurityEventInput, type SecurityEventsOptions,
} from './security-events.js';
export { createAuditLog, type AuditLog, type AuditEntry } from './audit-log.js';
export { createMetrics, type Metrics } from './metrics.js';
export { metricsRoutes, METRICS_SCOPE, type MetricsRouteOptions } from './metrics-route.js';
export { deferredChildLoggerFactory } from './request-logger.js';

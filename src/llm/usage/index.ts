export { accountAnswer, accountStream, answersDeferred, ownerCharge, type DeferredAccounting } from './deferred.js';
export { mergeUsage, usageFrom, type TokenUsage } from './extract.js';
export { createSqlQuotaStore, type QuotaStore, type QuotaSubject } from './quota-store.js';
export { createQuotaService, periodsAt, type QuotaLimits, type QuotaService } from './quotas.js';
export { SseEventScanner, type SseFindings } from './sse-scanner.js';
export { createUsageRecorder, type UsageKey, type UsageRecorder } from './usage-store.js';

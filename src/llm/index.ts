export { llmRoutes } from './proxy/routes.js';
export { createLlmPrepareStage } from './proxy/prepare.js';
export { createLlmServices, type LlmServices, type LlmServicesOptions } from './services.js';
export type { ProviderInput, ProviderSummary } from './providers/index.js';
export type { QuotaLimits, QuotaStore, QuotaSubject } from './usage/index.js';
export { DEFAULT_ENDPOINTS, effectiveEndpoints, type ProviderKind } from './whitelist/index.js';

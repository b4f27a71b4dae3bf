export { authHeaders, BUILT_IN, checkBaseUrl, isProviderKind, PROVIDER_NAME, providerLabel } from './catalog.js';
export { createProviderStore, type ProviderStore } from './store.js';
export { createProviderService, type ProviderInput, type ProviderService, type ProviderSummary, type ResolvedProvider } from './service.js';

export { DEFAULT_ENDPOINTS, NEVER_ALLOWED, type ProviderKind } from './defaults.js';
export { checkEndpointChanges, effectiveEndpoints, type EndpointChanges } from './endpoint-list.js';
export { guardTarget, upstreamQuery, type GuardedTarget } from './path-guard.js';
export { matchEndpoint, parsePattern, PatternError, type EndpointFlag, type EndpointMatch, type EndpointPattern, type HttpMethod } from './patterns.js';

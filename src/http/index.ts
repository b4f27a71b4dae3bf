export type { Caller, CallerGroup, CallerUser, RouteAuth, RouteClass } from './types.js';
export { genRequestId } from './request-id.js';
export { registerJsonBody, checkJsonComplexity, parseJsonText, type JsonLimits } from './json-body.js';
export { createCallerStage, createAuthorizationStage, requireScope, presentedKey, bearerToken } from './caller.js';
export { createCorsStage, type CorsStage } from './cors.js';
export { installErrorHandling } from './errors.js';
export { securityHeaders } from './security-headers.js';
export { routeInfo, type RouteInfo } from './route-info.js';
export { asHook, type Stage } from './hook.js';

export type { Caller, CallerGroup, CallerUser, RouteAuth, RouteClass } from './types.js';
export { bearerOf, hasScope, presentedKey } from '../access/index.js';
export { genRequestId } from './request-id.js';
export { registerJsonBody, checkJsonComplexity, parseJsonText, type JsonLimits } from './json-body.js';
export { createIdentifyStage, type IdentifyDeps } from './identify.js';
export { createAuthorizationStage } from './authorize.js';
export { stampSurfaces, pinDialect, errorDialectOf } from './surface.js';
export { createCorsStage, type CorsStage } from './cors.js';
export { installErrorHandling } from './errors.js';
export { cutInFlight, installDrain } from './drain.js';
export { addDocumentHeaders, securityHeaders } from './security-headers.js';
export { routeInfo, type RouteInfo } from './route-info.js';
export { asHook, stageChain, type Stage } from './hook.js';
export { requestStatsStage } from './request-stats-stage.js';
export {
  createOperatorSessionStage, CSRF_HEADER, ENVIRONMENT_HEADER, OPERATOR_COOKIE, OPERATOR_COOKIE_SECURE, operatorCookieOf, PROJECT_HEADER,
  type OperatorSessionOnRequest, type OperatorSessionStage,
} from './operator-session.js';

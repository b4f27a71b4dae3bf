// The access layer: who is calling and what a caller may do, below http/, identity/ and data/
// (all three speak it; it imports none of them).
export {
  actorId, createCaller, createOperatorCaller, type Caller, type CallerGroup, type CallerKey, type CallerOperator, type CallerOperatorRole, type CallerUser, type KeyKind,
} from './caller.js';
export {
  ApiKeyRejected, bearerOf, LOOKS_LIKE_KEY, presentedKey, TokenRejected, type KeyRejection, type TokenRejectReason,
} from './credentials.js';
export { hasScope, holdsEveryScope, validateScope } from './scopes.js';
export { ROUTE_CLASSES, type RouteClass } from './route-class.js';
export { accessDenial, holdsScope, type AccessDenial, type RouteAuth, type ScopeGrant, type UserRequirement } from './requirements.js';
export { isOwnRow, ownRows, OWNER_COLUMN } from './self.js';
export { createSurfaceTable, dialectOf, routeClassOf, type SurfaceDescriptor, type SurfaceTable } from './surface.js';

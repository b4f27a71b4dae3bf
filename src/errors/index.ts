export { ERROR_CODES, statusOf, type ErrorCode } from './codes.js';
export { GatehouseError, isGatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';
export { renderError, retryAfterOf, type Surface } from './surfaces.js';
export { toGatehouseError } from './from-fastify.js';
export { ServiceUnavailableError, isServiceUnavailable, type BackingService } from './unavailable.js';
export { invalid } from './invalid.js';

import { GatehouseError } from './gatehouse-error.js';

// A backing service that is down (the database, the limiter's Redis) is not our bug and not the
// client's: it is a 503 with Retry-After in the surface's dialect, so SDKs and load balancers
// retry, and operators see one log line per outage instead of a stack trace per request. Every
// outage, whichever store raised it, becomes this one error; the error handler counts it by
// service (gatehouse_service_unavailable_total).

export type BackingService = 'database' | 'redis';

export class ServiceUnavailableError extends GatehouseError {
  readonly service: BackingService;

  constructor(service: BackingService, options: { message: string; retryAfterS?: number; cause?: unknown }) {
    super('service_unavailable', { message: options.message, retryAfterS: options.retryAfterS ?? 1, cause: options.cause });
    this.name = 'ServiceUnavailableError';
    this.service = service;
  }
}

export function isServiceUnavailable(value: unknown): value is ServiceUnavailableError {
  return value instanceof ServiceUnavailableError;
}

import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface GatehouseErrorOptions {
  /** Shown to the client: must never hold a secret. */
  message?: string;
  /** Extra fields for the client (which field failed, allowed values…). */
  details?: unknown;
  /** Seconds, for 429 and 503. */
  retryAfterS?: number;
  /** Logged, never sent. */
  cause?: unknown;
  /** Extra response headers (e.g. WWW-Authenticate, rate-limit headers). */
  headers?: Record<string, string>;
  /**
   * Where one surface's clients expect another status for the same code than the table's: the
   * dashboard's sign-in answers invalid_credentials with 401, GoTrue's with 400.
   */
  status?: number;
}

/**
 * The one error type for client-visible failures; its HTTP status comes from the codes table.
 * A client error (4xx) is an answer, not a fault: the error handler never logs its stack, so none
 * is captured (several µs per refused request: a flood of bad credentials is mostly refusals).
 * A 5xx keeps its stack for the log.
 */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryAfterS: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, options: GatehouseErrorOptions = {}) {
    const status = options.status ?? ERROR_CODES[code].status;
    const stackTraceLimit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'GatehouseError';
    this.code = code;
    this.status = status;
    this.details = options.details;
    this.retryAfterS = options.retryAfterS;
    this.headers = options.headers;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}

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

/** The one error type for client-visible failures; its HTTP status comes from the codes table. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryAfterS: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, options: GatehouseErrorOptions = {}) {
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details;
    this.retryAfterS = options.retryAfterS;
    this.headers = options.headers;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}

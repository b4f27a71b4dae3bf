// Every call the dashboard makes goes through here: same-origin cookies, the CSRF token on each
// call that changes something, the chosen project and environment on each admin call, and one
// error type whose message is shown next to whatever caused it.

/** What the operator API and the admin API answer on refusal (src/errors, the `gatehouse` dialect). */
export interface ErrorBody {
  error: string;
  message: string;
  request_id?: string;
  details?: unknown;
  retry_after?: number;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The operator's choice of project and environment, sent with every admin call. */
export interface Scope {
  projectId: string;
  environment: string;
}

let csrfToken = '';
/** Set from GET /_/api/me; cleared on sign-out. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

let onSignedOut: (() => void) | null = null;
/**
 * Called when a call answers 401 (the session may have expired or been ended elsewhere; without
 * the cookie an admin call says its key is missing): the session provider asks /me again and goes
 * back to sign-in if the session is gone, instead of every page showing its own error.
 */
export function whenSignedOut(handler: (() => void) | null): void {
  onSignedOut = handler;
}

export interface RequestOptions {
  scope?: Scope | null;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
}

const SAFE = new Set(['GET', 'HEAD']);
/** Calls whose 401 is about what was typed (a password, a code), or that are the session check itself. */
const NOT_A_SESSION_CHECK = new Set(['/_/api/me', '/_/api/sign-in', '/_/api/setup', '/_/api/password', '/_/api/totp/enroll', '/_/api/totp/confirm', '/_/api/totp/disable']);

export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.scope) {
    headers['x-gatehouse-project'] = options.scope.projectId;
    headers['x-gatehouse-environment'] = options.scope.environment;
  }
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method, headers, credentials: 'same-origin', signal: options.signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check that it is running, then try again.');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const error = toApiError(response.status, parsed);
    if (error.status === 401 && !NOT_A_SESSION_CHECK.has(path)) onSignedOut?.();
    throw error;
  }
  return parsed as T;
}

function toApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as Partial<ErrorBody>;
  const code = typeof b.error === 'string' ? b.error : `http_${status}`;
  let message = typeof b.message === 'string' && b.message ? b.message : defaultMessage(status);
  if (status === 429 && typeof b.retry_after === 'number') message += ` Try again in ${b.retry_after} s.`;
  return new ApiError(status, code, message, b.details);
}

function defaultMessage(status: number): string {
  if (status === 401) return 'You are signed out. Sign in again.';
  if (status === 403) return 'Your role does not allow this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many attempts.';
  if (status >= 500) return 'The server failed to answer. Try again; if it persists, check its logs.';
  return `The request was refused (HTTP ${status}).`;
}

/** A message for anything a call threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

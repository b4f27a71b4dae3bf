import type { GatehouseError } from './gatehouse-error.js';

// Each public surface speaks the error dialect its clients already parse
// (docs/api.md): supabase-js reads GoTrue's and PostgREST's shapes, the OpenAI /
// Anthropic / Gemini SDKs read their provider's. Every shape carries our
// request id so a support request can be traced.

/** An error dialect; which surface speaks which is declared with the surfaces (src/surfaces.ts). */
export type Surface = 'gatehouse' | 'gotrue' | 'postgrest' | 'storage' | 'openai' | 'anthropic' | 'gemini';

type Renderer = (error: GatehouseError, requestId: string) => unknown;

/**
 * The whole seconds a client should wait, as sent in `Retry-After`: the header takes an integer
 * of at least 1, and the body's `retry_after` must say the same, or a client reading one and a
 * proxy reading the other would retry at different times.
 */
export function retryAfterOf(error: GatehouseError): number | undefined {
  return error.retryAfterS === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterS));
}

// Every dialect carries `retry_after` beside `request_id`: SDKs that read only the body (and
// logs that keep only the body) still learn when to retry. Extra top-level fields are ignored
// by the clients of each dialect.
function retryAfter(error: GatehouseError): { retry_after?: number } {
  const seconds = retryAfterOf(error);
  return seconds === undefined ? {} : { retry_after: seconds };
}

// PostgREST codes clients may branch on; the rest keep our snake_case code.
const POSTGREST_CODES: Partial<Record<string, string>> = {
  invalid_api_key: 'PGRST301',
  invalid_token: 'PGRST301',
  missing_api_key: 'PGRST301',
  forbidden: '42501',
  insufficient_scope: '42501',
  not_found: 'PGRST116',
  route_not_found: 'PGRST125',
  invalid_json: 'PGRST102',
  json_duplicate_key: 'PGRST102',
  payload_too_large: 'PGRST102',
  data_query_invalid: 'PGRST100',
  data_column_unknown: '42703',
  data_write_column_unknown: 'PGRST204',
  data_value_invalid: '22P02',
  data_value_required: '23502',
  data_value_too_long: '22001',
  data_rls_denied: '42501',
  data_column_forbidden: '42501',
  data_table_unknown: 'PGRST205',
  data_single_row_expected: 'PGRST116',
  data_unique_violation: '23505',
  data_reference_violation: '23503',
  data_range_invalid: 'PGRST103',
};

// storage-api's S3-style names in `code`, which apps branch on (e.g. `Duplicate` on upload); the rest
// keep ours. Its `error` field is the short kind; ours is the snake_case code, equally stable.
const STORAGE_CODES: Partial<Record<string, string>> = {
  storage_invalid_key: 'InvalidKey',
  storage_invalid_bucket_name: 'InvalidBucketName',
  storage_invalid_signature: 'InvalidSignature',
  storage_bucket_not_found: 'NoSuchBucket',
  storage_object_not_found: 'NoSuchKey',
  storage_bucket_exists: 'BucketAlreadyExists',
  storage_object_exists: 'Duplicate',
  storage_bucket_not_empty: 'InvalidRequest',
  storage_entity_too_large: 'EntityTooLarge',
  storage_quota_exceeded: 'EntityTooLarge',
  storage_mime_type_not_allowed: 'InvalidMimeType',
  storage_range_not_satisfiable: 'InvalidRange',
  invalid_token: 'InvalidJWT',
  missing_api_key: 'InvalidJWT',
  invalid_api_key: 'InvalidJWT',
  forbidden: 'AccessDenied',
  secret_key_required: 'AccessDenied',
  rate_limit_exceeded: 'SlowDown',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
  404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 529: 'overloaded_error',
};

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'invalid_request_error', 403: 'invalid_request_error',
  404: 'invalid_request_error', 413: 'invalid_request_error', 415: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

const GRPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS', 413: 'INVALID_ARGUMENT', 415: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED',
  502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

const RENDERERS: Record<Surface, Renderer> = {
  gatehouse: (e, requestId) => ({
    error: e.code,
    message: e.message,
    request_id: requestId,
    ...(e.details === undefined ? {} : { details: e.details }),
    ...retryAfter(e),
  }),
  // GoTrue >= 2.x: { code, error_code, msg }; supabase-js maps error_code to AuthApiError.code.
  gotrue: (e, requestId) => ({
    code: e.status,
    error_code: e.code,
    msg: e.message,
    request_id: requestId,
    ...(e.details === undefined ? {} : { details: e.details }),
    ...retryAfter(e),
  }),
  postgrest: (e, requestId) => ({
    code: POSTGREST_CODES[e.code] ?? e.code,
    message: e.message,
    details: e.details === undefined ? null : typeof e.details === 'string' ? e.details : JSON.stringify(e.details),
    hint: null,
    error: e.code,
    request_id: requestId,
    ...retryAfter(e),
  }),
  // storage-api: { statusCode, code, error, message }; storage-js reads the HTTP status and statusCode.
  storage: (e, requestId) => ({
    statusCode: String(e.status),
    code: STORAGE_CODES[e.code] ?? e.code,
    error: e.code,
    message: e.message,
    request_id: requestId,
    ...(e.details === undefined ? {} : { details: e.details }),
    ...retryAfter(e),
  }),
  openai: (e, requestId) => ({
    error: {
      message: e.message,
      type: OPENAI_TYPES[e.status] ?? (e.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: null,
      code: e.code,
    },
    request_id: requestId,
    ...retryAfter(e),
  }),
  anthropic: (e, requestId) => ({
    type: 'error',
    error: { type: ANTHROPIC_TYPES[e.status] ?? 'api_error', message: e.message },
    request_id: requestId,
    ...retryAfter(e),
  }),
  gemini: (e, requestId) => ({
    error: { code: e.status, message: e.message, status: GRPC_STATUS[e.status] ?? 'INTERNAL' },
    request_id: requestId,
    ...retryAfter(e),
  }),
};

export function renderError(surface: Surface, error: GatehouseError, requestId: string): unknown {
  return RENDERERS[surface](error, requestId);
}

// The one table of Gatehouse error codes. Codes are part of the public contract
// (docs/api.md): once shipped, a code never changes meaning or name. Code throws
// `new GatehouseError('invalid_api_key')`, never a bare HTTP status.

export const ERROR_CODES = {
  // 400 — bad input: always say which field and why in `details`.
  bad_request: { status: 400, message: 'The request is malformed.' },
  validation_failed: { status: 400, message: 'The request does not match the expected schema.' },
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  json_too_complex: { status: 400, message: 'The JSON body is nested too deeply or has too many keys.' },
  json_duplicate_key: { status: 400, message: 'The JSON body names the same key twice in one object; send each key once.' },
  multipart_field_not_allowed: { status: 400, message: 'A field of this multipart body is not accepted: fields that reference resources go in a JSON body.' },
  // 401 — no or bad credentials.
  missing_api_key: { status: 401, message: 'An API key is required: send it in the apikey or X-API-Key header.' },
  invalid_api_key: { status: 401, message: 'The API key is not valid.' },
  invalid_token: { status: 401, message: 'The bearer token is not valid.' },
  user_token_required: { status: 401, message: 'This route needs a signed-in user\'s token (Authorization: Bearer <JWT>) or a secret key.' },
  // The dashboard's operators (/_/api, and /admin/v1 with the operator's session cookie).
  not_signed_in: { status: 401, message: 'Sign in to the dashboard first: no live operator session.' },
  totp_required: { status: 401, message: 'A second factor is needed: send the current code of your authenticator app.' },
  csrf_rejected: { status: 403, message: 'A change from a dashboard session needs its CSRF token (x-csrf-token) and must come from the dashboard\'s own origin.' },
  // 403 — authenticated, not allowed.
  forbidden: { status: 403, message: 'This caller is not allowed to do that.' },
  insufficient_scope: { status: 403, message: 'The API key does not have the scope this route needs.' },
  secret_key_required: { status: 403, message: 'This route needs a secret key (sk_…) or an admin user.' },
  llm_endpoint_not_allowed: { status: 403, message: 'This provider endpoint is not enabled for this project.' },
  origin_not_allowed: { status: 403, message: 'This origin is not in the CORS allowlist of the project environment.' },
  // 404 — not found, or belongs to someone else (never reveal which).
  not_found: { status: 404, message: 'Not found.' },
  route_not_found: { status: 404, message: 'No route matches this method and path.' },
  outbox_disabled: { status: 404, message: 'The mail outbox exists in development only (GATEHOUSE_MAILER=outbox); this instance sends mail through SMTP.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this route.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  payload_too_large: { status: 413, message: 'The request body is larger than this route accepts.' },
  unsupported_media_type: { status: 415, message: 'This route does not accept that Content-Type.' },
  rate_limit_exceeded: { status: 429, message: 'Too many requests: slow down and retry later.' },
  token_quota_exceeded: { status: 429, message: 'The token quota of this user is used up for now.' },
  // Identity (GoTrue-compatible codes on /auth/v1: supabase-js branches on these names).
  invalid_credentials: { status: 400, message: 'Invalid login credentials.' },
  email_address_invalid: { status: 400, message: 'The email address is not valid.' },
  unsupported_grant_type: { status: 400, message: 'grant_type must be password or refresh_token.' },
  refresh_token_not_found: { status: 400, message: 'Invalid Refresh Token: Refresh Token Not Found.' },
  refresh_token_already_used: { status: 400, message: 'Invalid Refresh Token: Already Used.' },
  no_authorization: { status: 401, message: 'This endpoint requires a valid user access token (Authorization: Bearer <JWT>).' },
  session_not_found: { status: 403, message: 'The session of this token no longer exists.' },
  otp_expired: { status: 403, message: 'The token has expired or is invalid.' },
  user_not_found: { status: 404, message: 'User not found.' },
  weak_password: { status: 422, message: 'The password is too weak.' },
  email_exists: { status: 422, message: 'A user with this email address has already been registered.' },
  user_already_exists: { status: 422, message: 'User already registered.' },
  signup_disabled: { status: 422, message: 'Sign-ups are not allowed for this instance.' },
  over_request_rate_limit: { status: 429, message: 'Too many failed attempts: retry later.' },
  over_email_send_rate_limit: { status: 429, message: 'Too many emails were asked for: retry later.' },
  // Data API (/rest/v1, PostgREST-compatible codes in errors/surfaces.ts).
  data_query_invalid: { status: 400, message: 'The query is malformed.' },
  data_column_unknown: { status: 400, message: 'The column does not exist.' },
  data_write_column_unknown: { status: 400, message: 'The body names a column that does not exist.' },
  data_value_invalid: { status: 400, message: 'A value does not fit its column.' },
  data_value_required: { status: 400, message: 'A required column has no value.' },
  data_value_too_long: { status: 400, message: 'A value is longer than its column allows.' },
  data_rls_denied: { status: 403, message: 'The row-level rules of this table do not allow this.' },
  data_column_forbidden: { status: 403, message: 'The column-level rules of this table do not allow this.' },
  data_table_unknown: { status: 404, message: 'The table does not exist.' },
  data_single_row_expected: { status: 406, message: 'JSON object requested, multiple (or no) rows returned' },
  data_unique_violation: { status: 409, message: 'A row with this value already exists.' },
  data_reference_violation: { status: 409, message: 'The referenced row does not exist.' },
  data_range_invalid: { status: 416, message: 'The requested range is not satisfiable.' },
  schema_invalid: { status: 400, message: 'The schema is invalid.' },
  schema_change_refused: { status: 409, message: 'The schema change was refused.' },
  // File storage (/storage/v1, storage-api's shape in errors/surfaces.ts). An object the caller may not
  // read answers storage_object_not_found, exactly as a missing one.
  storage_invalid_key: { status: 400, message: 'The object name is not valid: 1 to 1024 bytes of printable characters in /-separated segments, none empty, "." or "..", no backslash.' },
  storage_invalid_bucket_name: { status: 400, message: 'The bucket id is not valid: 1 to 63 letters, digits, _ or -, and not a reserved word.' },
  storage_invalid_signature: { status: 400, message: 'The signed URL is not valid: expired, tampered with, for another object, or the object changed since it was signed.' },
  storage_bucket_not_found: { status: 404, message: 'Bucket not found.' },
  storage_object_not_found: { status: 404, message: 'Object not found.' },
  storage_bucket_exists: { status: 409, message: 'A bucket with this id already exists.' },
  storage_object_exists: { status: 409, message: 'The resource already exists.' },
  storage_bucket_not_empty: { status: 409, message: 'The bucket must be empty before it is deleted.' },
  storage_entity_too_large: { status: 413, message: 'The object exceeded the maximum allowed size.' },
  storage_quota_exceeded: { status: 413, message: 'The storage quota of this user is used up.' },
  storage_mime_type_not_allowed: { status: 415, message: 'This type of file is not allowed in this bucket.' },
  storage_range_not_satisfiable: { status: 416, message: 'The requested range is not satisfiable.' },
  unexpected_failure: { status: 500, message: 'Something went wrong on our side; the request id helps us find it.' },
  upstream_failed: { status: 502, message: 'The upstream service failed.' },
  service_unavailable: { status: 503, message: 'A required backing service is unavailable.' },
  upstream_timeout: { status: 504, message: 'The upstream service timed out.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

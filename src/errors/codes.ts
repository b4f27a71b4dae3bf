// The one table of Gatehouse error codes. Codes are part of the public contract
// (API.md): once shipped, a code never changes meaning or name. Code throws
// `new GatehouseError('invalid_api_key')`, never a bare HTTP status.

export const ERROR_CODES = {
  // 400 — bad input: always say which field and why in `details`.
  bad_request: { status: 400, message: 'The request is malformed.' },
  validation_failed: { status: 400, message: 'The request does not match the expected schema.' },
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  json_too_complex: { status: 400, message: 'The JSON body is nested too deeply or has too many keys.' },
  // 401 — no or bad credentials.
  missing_api_key: { status: 401, message: 'An API key is required: send it in the apikey or X-API-Key header.' },
  invalid_api_key: { status: 401, message: 'The API key is not valid.' },
  invalid_token: { status: 401, message: 'The bearer token is not valid.' },
  // 403 — authenticated, not allowed.
  forbidden: { status: 403, message: 'This caller is not allowed to do that.' },
  insufficient_scope: { status: 403, message: 'The API key does not have the scope this route needs.' },
  secret_key_required: { status: 403, message: 'This route needs a secret key (sk_…) or an admin user.' },
  origin_not_allowed: { status: 403, message: 'This origin is not in the CORS allowlist of the project environment.' },
  // 404 — not found, or belongs to someone else (never reveal which).
  not_found: { status: 404, message: 'Not found.' },
  route_not_found: { status: 404, message: 'No route matches this method and path.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this route.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  payload_too_large: { status: 413, message: 'The request body is larger than this route accepts.' },
  unsupported_media_type: { status: 415, message: 'This route does not accept that Content-Type.' },
  rate_limit_exceeded: { status: 429, message: 'Too many requests: slow down and retry later.' },
  unexpected_failure: { status: 500, message: 'Something went wrong on our side; the request id helps us find it.' },
  upstream_failed: { status: 502, message: 'The upstream service failed.' },
  service_unavailable: { status: 503, message: 'A required backing service is unavailable.' },
  upstream_timeout: { status: 504, message: 'The upstream service timed out.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

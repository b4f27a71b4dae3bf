// Row types of the opt-in LLM request log (migration 0006-llm-request-log).
// Timestamps are ISO-8601 UTC text, like every Gatehouse table.

export interface LlmRequestLogSettingsTable {
  project_id: string;
  environment: string;
  /** 1: every proxied request of this project environment is logged. */
  enabled: number;
  /** Entries older than this many days are deleted (1..90). */
  retention_days: number;
  /** Cap per stored body (request and response each); 0 keeps metadata only. */
  max_body_bytes: number;
  updated_at: string;
  /** `key:<id>`, `user:<id>` or `cli`. */
  updated_by: string;
}

export interface LlmRequestLogTable {
  /** `req_<time><seq><random>`: sorts by creation time, so it is also the page cursor. */
  id: string;
  project_id: string;
  environment: string;
  provider: string;
  method: string;
  /** The provider path without its query string (which may carry a key, e.g. Gemini's ?key=). */
  path: string;
  /** The user id, or `key:<id>` for a secret key acting server-side. */
  user_id: string;
  /** The status sent to the caller; 499 when the caller went away first. */
  status: number;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  duration_ms: number;
  /** Sealed by the keyring (scope project/env, context llm_request_log:<id>:request); null when there was none or it was not text. */
  request_body: string | null;
  /** Sealed likewise (context llm_request_log:<id>:response). */
  response_body: string | null;
  /** 1 when a body was cut at max_body_bytes. */
  truncated: number;
  created_at: string;
}

export interface LlmRequestLogTables {
  llm_request_log_settings: LlmRequestLogSettingsTable;
  llm_request_log: LlmRequestLogTable;
}

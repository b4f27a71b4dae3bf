import type { LlmRequestLogTables } from './request-log/index.js';

// Row types of the LLM proxy's tables (migration 0004-llm). Timestamps are
// ISO-8601 UTC text, JSON is text, like every Gatehouse table.

export interface LlmProvidersTable {
  project_id: string;
  environment: string;
  /** `openai`, `anthropic`, `gemini`, or an OpenAI-compatible name such as `groq`. */
  name: string;
  /** Wire format: openai | anthropic | gemini. */
  kind: string;
  /** Origin + optional base path, e.g. https://api.openai.com. */
  base_url: string;
  /** The provider key sealed by the keyring (scope project/env, context provider_key:<name>). Never returned. */
  key_ciphertext: string | null;
  /** Last four characters of the key, so admins can tell keys apart. */
  key_last_four: string | null;
  /** JSON array of extra endpoint patterns ("POST /v1/x/{file}"). */
  endpoints_add: string;
  /** JSON array of default endpoint patterns switched off. */
  endpoints_remove: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface LlmResourcesTable {
  project_id: string;
  environment: string;
  provider: string;
  /** The provider's id, e.g. file-abc, thread_abc, vs_abc, resp_abc. */
  resource_id: string;
  /** file, thread, message, run, vector_store, batch, response… (informational; lookups go by id). */
  resource_type: string;
  /** `user:<id>` or `key:<id>` (a secret key acting server-side). */
  owner: string;
  created_at: string;
  /** When the tokens of this run or response were counted (migration 0007); null = not yet. */
  accounted_at: string | null;
  /** A run's thread, the path it is fetched under (migration 0008); null for other kinds. */
  parent_id: string | null;
}

export interface LlmUsageTable {
  project_id: string;
  environment: string;
  user_id: string;
  provider: string;
  model: string;
  /** Start of the UTC hour, ISO text. */
  hour: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface LlmQuotasTable {
  project_id: string;
  environment: string;
  /** null = no limit. */
  tokens_per_day: number | null;
  tokens_per_month: number | null;
  updated_at: string;
}

export interface LlmQuotaCountersTable {
  project_id: string;
  environment: string;
  user_id: string;
  /** `day:2026-11-23` or `month:2026-11`. */
  period: string;
  tokens: number;
}

/** The opt-in request log's tables are declared beside their module (request-log/tables.ts). */
export interface LlmTables extends LlmRequestLogTables {
  llm_providers: LlmProvidersTable;
  llm_resources: LlmResourcesTable;
  llm_usage: LlmUsageTable;
  llm_quotas: LlmQuotasTable;
  llm_quota_counters: LlmQuotaCountersTable;
}

declare module '../db/index.js' {
  interface Database extends LlmTables {}
}

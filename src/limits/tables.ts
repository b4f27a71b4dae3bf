// Row types of the rate-limit tables (migration 0005-limits). Same conventions as db/tables.ts:
// ISO-8601 text timestamps, JSON as text, every row scoped by project_id + environment.

/** One project environment's changes to the config file's class policies (a LimitsPolicyPatch). */
export interface RateLimitPoliciesTable {
  project_id: string;
  environment: string;
  /** JSON LimitsPolicyPatch. */
  policy: string;
  updated_at: string;
  /** `key:<id>`, `user:<id>` or `cli`. */
  updated_by: string;
}

/** Per-user or per-key replacement windows inside one project environment. */
export interface RateLimitOverridesTable {
  project_id: string;
  environment: string;
  /** `user:<id>` or `key:<id>`. */
  subject: string;
  /** JSON SubjectOverride: route class → windows. */
  limits: string;
  updated_at: string;
  updated_by: string;
}

export interface LimitTables {
  rate_limit_policies: RateLimitPoliciesTable;
  rate_limit_overrides: RateLimitOverridesTable;
}

declare module '../db/index.js' {
  interface Database extends LimitTables {}
}

import type { Generated } from 'kysely';

// Row types of the security-event and audit tables (migrations 0001-core and 0012-audit-chain), merged into db/'s
// Database (see db/tables.ts).

export interface SecurityEventsTable {
  id: Generated<number>;
  project_id: string | null;
  environment: string | null;
  type: string;
  ip: string | null;
  request_id: string | null;
  /** JSON object; never holds a secret. */
  details: string;
  created_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  project_id: string;
  environment: string | null;
  /** Who acted: `key:<id>`, `user:<id>` or `cli`. */
  actor: string;
  action: string;
  target: string | null;
  details: string;
  created_at: string;
  /** Place in the chain of (project_id, environment): 1, 2, 3… with no gaps (migration 0012). */
  seq: number | null;
  /** `hash` of the entry at seq - 1; 64 zeros for seq 1. */
  prev_hash: string | null;
  /** SHA-256 (hex) of the entry's fields and prev_hash: see audit-hash.ts. */
  hash: string | null;
}

/** The last seq and hash of each audit chain; environment '' is the project-wide chain. */
export interface AuditChainHeadsTable {
  project_id: string;
  environment: string;
  seq: number;
  hash: string;
}

/** Responses of one project environment in one minute (migration 0016); `minute` is unix seconds. */
export interface RequestStatsTable {
  project_id: string;
  environment: string;
  minute: number;
  requests: number;
  errors_4xx: number;
  errors_5xx: number;
  rate_limited: number;
}

/** A signed-in user seen in a five-minute slot (unix seconds) of a project environment (migration 0016). */
export interface ActiveUsersTable {
  project_id: string;
  environment: string;
  slot: number;
  user_id: string;
}

export interface ObservabilityTables {
  security_events: SecurityEventsTable;
  request_stats: RequestStatsTable;
  active_users: ActiveUsersTable;
  audit_log: AuditLogTable;
  audit_chain_heads: AuditChainHeadsTable;
}

declare module '../db/index.js' {
  interface Database extends ObservabilityTables {}
}

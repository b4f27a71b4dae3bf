import type { Generated } from 'kysely';

// Row types of the security-event and audit tables (migration 0001-core), merged into db/'s
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
}

export interface ObservabilityTables {
  security_events: SecurityEventsTable;
  audit_log: AuditLogTable;
}

declare module '../db/index.js' {
  interface Database extends ObservabilityTables {}
}

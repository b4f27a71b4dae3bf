import type { Generated } from 'kysely';
import type { IdentityTables } from '../identity/tables.js';
import type { LlmTables } from '../llm/tables.js';
import type { LimitTables } from '../limits/tables.js';
import type { DataTables } from '../data/schema/tables.js';

// Row types of Gatehouse's own tables. Timestamps are ISO-8601 UTC strings on
// both engines (sortable as text, no driver-specific Date handling); JSON is
// stored as text. Every tenant-owned row carries project_id + environment.

export interface ProjectsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface EnvironmentsTable {
  project_id: string;
  name: string;
  /** JSON array of allowed CORS origins. */
  cors_origins: string;
  created_at: string;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  environment: string;
  kind: 'publishable' | 'secret';
  name: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  key_hash: string;
  /** e.g. `pk_dev_` — shown in lists with last_four so people can tell keys apart. */
  prefix: string;
  last_four: string;
  /** JSON array of scope patterns, or null for the kind's full power. */
  scopes: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  /** Set when the key was rotated: the id of its successor. */
  replaced_by: string | null;
  /** Who made the key: `key:<id>`, `user:<id>` (an admin user), `cli`, or null (init, or unknown). */
  created_by: string | null;
}

export interface DataKeysTable {
  id: string;
  scope: string;
  master_key_id: string;
  wrapped: string;
  created_at: string;
}

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

export interface CoreTables {
  projects: ProjectsTable;
  environments: EnvironmentsTable;
  api_keys: ApiKeysTable;
  data_keys: DataKeysTable;
  security_events: SecurityEventsTable;
  audit_log: AuditLogTable;
}

/** All tables; each capability adds its own interface here. */
export type Database = CoreTables & IdentityTables & LlmTables & LimitTables & DataTables;

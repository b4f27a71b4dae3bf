// Row type of the API key table (migration 0001-core), merged into db/'s Database (see db/tables.ts).

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

export interface ApiKeyTables {
  api_keys: ApiKeysTable;
}

declare module '../../db/index.js' {
  interface Database extends ApiKeyTables {}
}

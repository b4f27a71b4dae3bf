import type { Generated } from 'kysely';

// Row types of the identity tables (migration 0002-identity). Same conventions
// as db/tables.ts: ISO-8601 text timestamps, JSON as text, every row scoped by
// project_id + environment.

export interface IdentityUsersTable {
  id: string;
  project_id: string;
  environment: string;
  /** Lower-cased; null for users of an external issuer. */
  email: string | null;
  email_confirmed_at: string | null;
  /** Argon2id PHC string; null for external users. */
  password_hash: string | null;
  /** `authenticated` or `admin`. */
  role: string;
  /** JSON object; set by the server only. */
  app_metadata: string;
  /** JSON object; the user may edit it. */
  user_metadata: string;
  /** External issuer id, or null for Gatehouse accounts. */
  issuer_id: string | null;
  external_sub: string | null;
  created_at: string;
  updated_at: string;
  last_sign_in_at: string | null;
  /** Pending new address (GoTrue's `new_email`): not the login address or the `email` claim until confirmed. */
  email_change: string | null;
  email_change_sent_at: string | null;
}

export interface IdentitySessionsTable {
  id: string;
  project_id: string;
  environment: string;
  user_id: string;
  created_at: string;
  refreshed_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface IdentityRefreshTokensTable {
  id: string;
  session_id: string;
  /** SHA-256 hex of the opaque token: the token itself is never stored. */
  token_hash: string;
  parent_id: string | null;
  created_at: string;
  /** Set when rotated; a later presentation is reuse. */
  used_at: string | null;
  revoked_at: string | null;
}

export interface IdentitySigningKeysTable {
  kid: string;
  project_id: string;
  environment: string;
  alg: string;
  /** Private JWK, sealed by the keyring (context `signing_key:<kid>`). */
  private_jwk: string;
  /** Public JWK, JSON. */
  public_jwk: string;
  created_at: string;
  /** When a newer key took over signing; verifies until retired_at + token TTL. */
  retired_at: string | null;
}

export interface IdentityIssuersTable {
  id: string;
  project_id: string;
  environment: string;
  kind: string;
  name: string;
  issuer: string;
  audience: string;
  jwks_url: string | null;
  /** HS256 secret sealed by the keyring (context `issuer_secret:<id>`), Supabase legacy only. */
  hmac_secret: string | null;
  /** JSON array of allowed `alg` values. */
  algorithms: string;
  created_at: string;
}

export interface IdentityOutboxTable {
  id: string;
  project_id: string;
  environment: string;
  to_address: string;
  subject: string;
  body: string;
  kind: string;
  created_at: string;
}

export interface IdentityOneTimeTokensTable {
  id: string;
  project_id: string;
  environment: string;
  user_id: string;
  kind: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The address the code was mailed to: the code is only valid together with it. */
  sent_to: string | null;
  /** Wrong codes tried against this one's address; past a limit the code is void. */
  failed_attempts: Generated<number>;
}

export interface IdentityInvitesTable {
  project_id: string;
  environment: string;
  email: string;
  created_at: string;
  used_at: string | null;
}

export interface IdentitySettingsTable {
  project_id: string;
  environment: string;
  signup_mode: string;
  updated_at: string;
}

export interface IdentityTables {
  identity_users: IdentityUsersTable;
  identity_sessions: IdentitySessionsTable;
  identity_refresh_tokens: IdentityRefreshTokensTable;
  identity_signing_keys: IdentitySigningKeysTable;
  identity_issuers: IdentityIssuersTable;
  identity_outbox: IdentityOutboxTable;
  identity_one_time_tokens: IdentityOneTimeTokensTable;
  identity_invites: IdentityInvitesTable;
  identity_settings: IdentitySettingsTable;
}

declare module '../db/index.js' {
  interface Database extends IdentityTables {}
}

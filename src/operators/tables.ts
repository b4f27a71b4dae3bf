// Row types of the operator tables (migration 0015-operators). Same conventions as db/tables.ts.

export interface OperatorsTable {
  id: string;
  email: string;
  password_hash: string;
  totp_secret: string | null;
  totp_pending: string | null;
  totp_last_step: number | string | null;
  created_at: string;
  updated_at: string;
}

export interface OperatorRolesTable {
  operator_id: string;
  project_id: string;
  role: string;
}

export interface OperatorSessionsTable {
  id_hash: string;
  operator_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface OperatorSetupTokensTable {
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface OperatorTables {
  operators: OperatorsTable;
  operator_roles: OperatorRolesTable;
  operator_sessions: OperatorSessionsTable;
  operator_setup_tokens: OperatorSetupTokensTable;
}

declare module '../db/index.js' {
  interface Database extends OperatorTables {}
}

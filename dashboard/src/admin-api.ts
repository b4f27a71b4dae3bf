// The admin API (/admin/v1/*) on the chosen project environment, as the signed-in operator.
// Types mirror src/admin/*.ts: the wire format, snake_case as sent.
import { request, type RequestOptions, type Scope } from './api.js';
import type { LimitWindow } from './limit-windows.js';
import { useSession } from './session.js';

export type { LimitWindow };

export interface KeyRow {
  id: string; name: string; kind: 'publishable' | 'secret'; environment: string; display: string; scopes: string[] | null;
  created_at: string; last_used_at: string | null; expires_at: string | null; revoked_at: string | null;
  replaced_by: string | null; created_by: string | null; status: string;
}
export type CreatedKey = KeyRow & { key: string };

export interface UserRow {
  id: string; email: string; role: string; created_at: string; updated_at: string; last_sign_in_at: string | null;
  email_confirmed_at: string | null; app_metadata: Record<string, unknown>; user_metadata: Record<string, unknown>;
  external: { issuer_id: string; sub: string } | null; disabled?: boolean;
}
export interface SessionRow {
  id: string; user_id: string; created_at: string; refreshed_at: string; revoked_at: string | null; revoked_reason: string | null;
  user_agent: string | null; ip: string | null;
}

export interface ColumnSpec {
  type: string; required?: boolean; unique?: boolean; default?: unknown; max_length?: number;
  read?: string[]; write?: string[]; table?: string; on_delete?: string;
}
export interface TableSpec { columns: Record<string, ColumnSpec>; rules?: Record<string, string[]>; [setting: string]: unknown }
export interface SchemaDoc { tables: Record<string, TableSpec> }
export interface Plan {
  applied: boolean; destructive: boolean; problems: unknown[];
  steps: { kind: string; table: string; column?: string; description: string }[];
}
export interface PolicyResult {
  decision: 'allow' | 'deny' | 'depends_on_row'; reason: string;
  checks: { operation: string; decision: string; rule: string | null; index: number | null }[];
  columns: { readable: string[]; self_readable: string[]; writable: string[]; self_writable: string[] };
}
export type ViewAs = { kind: 'user'; userId: string } | { kind: 'guest' } | { kind: 'admin' };

export interface ProviderRow {
  name: string; kind: 'openai' | 'anthropic' | 'gemini'; base_url: string; has_key: boolean; key_last_four: string | null; enabled: boolean;
  endpoints_add: string[]; endpoints_remove: string[]; created_at: string; updated_at: string; endpoints?: string[];
}
export interface UsageRow { user_id: string; provider: string; model: string; hour: string; requests: number; input_tokens: number; output_tokens: number; total_tokens: number }
export interface RequestLogEntry {
  id: string; provider: string; method: string; path: string; user_id: string; status: number; model: string | null;
  input_tokens: number | null; output_tokens: number | null; total_tokens: number | null; duration_ms: number; created_at: string;
  truncated: boolean; request_body: string | null; response_body: string | null; bodies_unreadable: boolean;
}
export interface RequestLogSettings { enabled: boolean; retention_days: number; max_body_bytes: number; updated_at: string | null; updated_by: string | null }

export interface ClassPolicy { failMode: 'open' | 'closed'; tiers: Record<'guest' | 'user' | 'admin', LimitWindow[]> }
export interface LimitsView {
  effective: { classes: Record<string, ClassPolicy>; [k: string]: unknown };
  /** This environment's changes, per route class; absent parts come from the config file. */
  policy: Record<string, { failMode?: 'open' | 'closed'; tiers?: Partial<ClassPolicy['tiers']> }> | null;
  policy_updated_at: string | null;
  overrides: { subject: string; limits: Record<string, LimitWindow[]>; updated_at: string; updated_by: string }[];
}

export interface SecurityEvent { id: number; type: string; ip: string | null; request_id: string | null; details: unknown; created_at: string }
export interface AuditEntry { id: number; seq: number | null; actor: string; action: string; target: string | null; details: unknown; created_at: string }
export interface AuditVerdict {
  ok: boolean;
  chains: { environment: string | null; ok: boolean; entries: number; head: { seq: number; hash: string } | null; problem: { kind: string; seq: number | null; message: string } | null }[];
}

export type Metric = 'requests' | 'errors' | 'rate_limited' | 'llm_tokens' | 'active_users';
export interface Series { metric: Metric; step: number; points: [number, number][] }

export type Admin = <T>(method: string, path: string, body?: unknown, options?: Omit<RequestOptions, 'scope'>) => Promise<T>;

export function adminClient(scope: Scope | null): Admin {
  return (method, path, body, options) => request(method, `/admin/v1${path}`, body, { ...options, scope });
}

/** The admin client of the chosen project environment. */
export function useAdmin(): Admin {
  return adminClient(useSession().scope);
}

export const enc = encodeURIComponent;

// What a CLI command acts on: one project environment, reached either directly through the
// operations layer (local mode, on the server's own storage) or through the admin API of a running
// server (remote mode, --url). Each command calls one named act on a target and prints what it
// returns; both targets return the admin API's JSON shapes, so the same command prints the same
// thing either way and the two modes cannot drift apart.
import type { planJson, toAdminUser, toIssuerJson, toKeyJson, toOverrideJson, toRequestLogJson } from '../../admin/index.js';
import type { PolicyTestInput, PolicyTestResult, SchemaDocument } from '../../data/index.js';
import type { IssuerInput } from '../../identity/index.js';
import type { LimitsConfig, LimitsPolicyPatch, RouteClass, Window } from '../../limits/index.js';
import type { ProviderSummary } from '../../llm/index.js';
import type { AuditVerdict, ChainHeadView, ClassChange, ExportedEntry } from '../../operations/index.js';

export type KeyJson = ReturnType<typeof toKeyJson>;
export type CreatedKeyJson = KeyJson & { key: string };
export type RotatedKeyJson = CreatedKeyJson & { previous: KeyJson };
export type UserJson = ReturnType<typeof toAdminUser>;
export type IssuerJson = ReturnType<typeof toIssuerJson>;
export type OverrideJson = ReturnType<typeof toOverrideJson>;
export type RequestLogJson = ReturnType<typeof toRequestLogJson>;
export type PlanJson = ReturnType<typeof planJson>;

export interface LimitsView {
  effective: LimitsConfig;
  policy: LimitsPolicyPatch | null;
  policy_updated_at: string | null;
  overrides: OverrideJson[];
}

export interface QuotasJson {
  tokens_per_day: number | null;
  tokens_per_month: number | null;
}

/** The body of PUT /admin/v1/providers/:name; undefined fields are left as they are. */
export interface ProviderChange {
  kind?: 'openai' | 'anthropic' | 'gemini' | undefined;
  base_url?: string | undefined;
  /** null removes the stored key. */
  api_key?: string | null | undefined;
  endpoints_add?: string[] | undefined;
  endpoints_remove?: string[] | undefined;
  enabled?: boolean | undefined;
}

export interface AdminTarget {
  keys: {
    list(): Promise<KeyJson[]>;
    create(input: { kind: 'publishable' | 'secret'; name?: string | undefined; scopes: string[] | null; expires_at: string | null }): Promise<CreatedKeyJson>;
    revoke(id: string): Promise<KeyJson>;
    rotate(id: string, graceSeconds: number | undefined): Promise<RotatedKeyJson>;
  };
  users: {
    list(limit: number): Promise<UserJson[]>;
    create(input: { email: string; password: string; role: 'authenticated' | 'admin' }): Promise<UserJson>;
    /** By id (usr_…) or email. */
    find(ref: string): Promise<UserJson>;
    setRole(id: string, role: string): Promise<UserJson>;
    revokeSessions(id: string): Promise<number>;
  };
  auth: {
    setSignupMode(mode: string): Promise<string>;
    rotateSigningKey(): Promise<{ kid: string; previous: string | null }>;
    issuers(): Promise<IssuerJson[]>;
    addIssuer(input: IssuerInput): Promise<IssuerJson>;
    removeIssuer(id: string): Promise<void>;
  };
  providers: {
    list(): Promise<ProviderSummary[]>;
    put(name: string, change: ProviderChange): Promise<ProviderSummary>;
    remove(name: string): Promise<void>;
    quotas(): Promise<QuotasJson>;
    /** undefined keeps the current value; null means no limit. */
    setQuotas(change: { tokens_per_day?: number | null | undefined; tokens_per_month?: number | null | undefined }): Promise<QuotasJson>;
  };
  limits: {
    view(): Promise<LimitsView>;
    /** One class changed, the rest of the environment's policy kept. */
    changeClass(routeClass: RouteClass, change: ClassChange): Promise<{ effective: LimitsConfig; policy: LimitsPolicyPatch }>;
    /** Drops the environment's changes (of one class, or all); answers the limits now in force. */
    clearPolicy(routeClass?: RouteClass): Promise<LimitsConfig>;
    overrides(): Promise<OverrideJson[]>;
    /** One class of a subject's override set, its other classes kept. */
    changeOverrideClass(subject: string, routeClass: RouteClass, windows: Window[]): Promise<OverrideJson>;
    removeOverride(subject: string): Promise<void>;
  };
  schema: {
    apply(document: unknown, options: { dryRun: boolean; allowDataLoss: boolean }): Promise<PlanJson>;
    document(): Promise<SchemaDocument>;
    testPolicy(table: string, input: PolicyTestInput): Promise<PolicyTestResult>;
  };
  audit: {
    verify(): Promise<AuditVerdict>;
    head(): Promise<{ chains: ChainHeadView[] }>;
    /** Every entry, one at a time as the server or the database hands them out. */
    export(): AsyncIterable<ExportedEntry>;
  };
  requestLog: {
    settings(): Promise<RequestLogJson>;
    putSettings(change: { enabled: boolean; retention_days?: number | undefined; max_body_bytes?: number | undefined }): Promise<RequestLogJson>;
  };
}

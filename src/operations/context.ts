import type { DataService } from '../data/index.js';
import { GatehouseError } from '../errors/index.js';
import type { ApiKeyService } from '../identity/api-keys/index.js';
import type { Identity } from '../identity/index.js';
import type { LimitSettings } from '../limits/index.js';
import type { LlmServices } from '../llm/index.js';
import type { AuditEntry, AuditLog, RequestStats, SecurityEvents } from '../observability/index.js';
import type { ChannelSettingsService } from '../realtime/index.js';
import type { OperatorService } from '../operators/index.js';
import type { Clock } from '../shared/clock.js';
import type { StorageService } from '../storage/index.js';
import type { Environment, ProjectService } from '../tenancy/index.js';
import { actorOf, type Principal } from './principal.js';

/** One act: who does it, on which project environment, and (over HTTP) from which request. */
export interface ActionContext {
  principal: Principal;
  projectId: string;
  environment: Environment;
  /** The request behind the act, for security events; absent from the CLI. */
  ip?: string | null;
  requestId?: string | null;
}

/** The services the actions use; nothing else (no logger, no HTTP). */
export interface OperationsDeps {
  apiKeys: ApiKeyService;
  identity: Identity;
  audit: AuditLog;
  events: SecurityEvents;
  llm: Pick<LlmServices, 'providers' | 'quotas' | 'usage' | 'requestLog'>;
  /** Request and active-user rollups, for the dashboard's charts. */
  stats: Pick<RequestStats, 'requestSeries' | 'activeUserSeries'>;
  clock: Clock;
  rateLimits: { settings: LimitSettings };
  data: DataService;
  /** A deleted user's stored files go with them (or stay, ownerless, by setting). */
  files: Pick<StorageService, 'forgetUser'>;
  projects: ProjectService;
  /** Realtime channel settings (public channels, private channel rules). */
  realtimeChannels: ChannelSettingsService;
  /** The dashboard's operators (issue 17). */
  operators: OperatorService;
  config: { mode: string };
}

export interface OperationsOptions {
  /** Called after this environment's CORS allowlist changed, so this instance stops serving the old one at once. */
  onCorsChange?: () => void;
}

export type Audit = (ctx: ActionContext, entry: Omit<AuditEntry, 'projectId' | 'environment' | 'actor'>) => Promise<void>;

/** Every action writes its audit entry through this: the actor and scope come from the context, never from the caller. */
export function auditWith(log: AuditLog): Audit {
  return (ctx, entry) => log.write({ projectId: ctx.projectId, environment: ctx.environment, actor: actorOf(ctx.principal), ...entry });
}

/** A bad input, named by its field (errors/invalid.ts: the operators service uses it too). */
export { invalid } from '../errors/index.js';

export function notFound(message: string): GatehouseError {
  return new GatehouseError('not_found', { message });
}

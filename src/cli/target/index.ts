export type { AdminTarget, KeyJson, LimitsView, OverrideJson, PlanJson, ProviderChange, QuotasJson, RequestLogJson, UserJson, IssuerJson } from './target.js';
export { localTarget } from './local.js';
export { remoteTarget } from './remote.js';
export { createAdminClient, parseServerUrl, RemoteError, type AdminClient } from './admin-client.js';

import type { FastifyInstance } from 'fastify';
import type { AdminContext } from './context.js';
import { auditRoutes } from './audit.js';
import { authSettingsRoutes } from './auth-settings.js';
import { issuerRoutes } from './auth-issuers.js';
import { keyRoutes } from './keys.js';
import { limitRoutes } from './limits.js';
import { logRoutes } from './logs.js';
import { projectRoutes } from './project.js';
import { tableRoutes } from './tables.js';
import { providerRoutes } from './providers.js';
import { llmRequestLogRoutes } from './llm-request-log.js';
import { statsRoutes } from './stats.js';
import { userRoutes } from './users.js';
import { realtimeRoutes } from './realtime.js';

/**
 * `/admin/v1/*`: a secret key or an admin user, acting on its own project environment only.
 * Routes parse and print; the operations layer decides, acts and audits.
 */
export async function adminRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  // Pass only our context on: Fastify's own options (prefix) must not be re-applied to children.
  const context: AdminContext = { operations };
  await app.register(projectRoutes, context);
  await app.register(keyRoutes, context);
  await app.register(logRoutes, context);
  await app.register(auditRoutes, context);
  await app.register(tableRoutes, context);
  await app.register(userRoutes, context);
  await app.register(issuerRoutes, context);
  await app.register(authSettingsRoutes, context);
  await app.register(limitRoutes, context);
  await app.register(providerRoutes, context);
  await app.register(llmRequestLogRoutes, context);
  await app.register(realtimeRoutes, context);
  await app.register(statsRoutes, context);
}

export type { AdminContext } from './context.js';
export { actingOf, callerOf, principalOf } from './context.js';
// The JSON shapes of the admin API, for the CLI, which prints the same shapes locally and remotely.
export { toKeyJson } from './keys.js';
export { toAdminUser } from './users.js';
export { toIssuerJson } from './auth-issuers.js';
export { toOverrideJson } from './limits.js';
export { toRequestLogJson } from './llm-request-log.js';
export { planJson } from './tables.js';

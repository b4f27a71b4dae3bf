import type { FastifyInstance } from 'fastify';
import type { AdminContext } from './context.js';
import { keyRoutes } from './keys.js';
import { logRoutes } from './logs.js';
import { projectRoutes } from './project.js';

/** `/admin/v1/*`: a secret key or an admin user, acting on its own project environment only. */
export async function adminRoutes(app: FastifyInstance, { deps, cors }: AdminContext): Promise<void> {
  // Pass only our context on: Fastify's own options (prefix) must not be re-applied to children.
  const context: AdminContext = { deps, cors };
  await app.register(projectRoutes, context);
  await app.register(keyRoutes, context);
  await app.register(logRoutes, context);
}

export type { AdminContext } from './context.js';
export { callerOf, actorOf } from './context.js';

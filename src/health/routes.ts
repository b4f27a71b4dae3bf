import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatehouseError } from '../errors/index.js';
import type { Storage } from '../db/index.js';

const Status = Type.Object({ status: Type.String() });

/** Liveness and readiness for load balancers; public, and they reveal nothing. */
export async function healthRoutes(app: FastifyInstance, { storage }: { storage: Storage }): Promise<void> {
  app.get('/health', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/ready', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'The database answers', response: { 200: Status } },
  }, async (request) => {
    try {
      await storage.ping();
    } catch (error) {
      request.log.error({ err: error }, 'readiness check: database unreachable');
      throw new GatehouseError('service_unavailable', { message: 'The database is not reachable.', retryAfterS: 5 });
    }
    return { status: 'ready' };
  });
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { isServiceUnavailable, ServiceUnavailableError } from '../errors/index.js';
import type { Storage } from '../db/index.js';

const Status = Type.Object({ status: Type.String() });

/**
 * Liveness and readiness for load balancers; public, and they reveal nothing. Not limited by
 * address: a probe refused with 429 would take a healthy instance out of rotation.
 */
export async function healthRoutes(app: FastifyInstance, { storage }: { storage: Storage }): Promise<void> {
  app.get('/health', {
    config: { auth: 'public', addressLimit: false },
    schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/ready', {
    config: { auth: 'public', addressLimit: false },
    schema: { tags: ['operations'], summary: 'The database answers and the server is not shutting down', response: { 200: Status } },
  }, async (request) => {
    try {
      await storage.ping();
    } catch (error) {
      // The storage logged the outage once; probes every few seconds would repeat it.
      if (!isServiceUnavailable(error)) request.log.error({ err: error }, 'readiness check failed');
      throw new ServiceUnavailableError('database', { message: 'The database is not reachable.', retryAfterS: 5, cause: error });
    }
    return { status: 'ready' };
  });
}

import type { FastifyInstance } from 'fastify';
import { bucketJson, type BucketInput } from '../buckets.js';
import { actorOf } from '../context.js';
import type { StorageService } from '../service.js';

// storage-api's bucket routes: admin only (a secret key or an admin user), like its service role.
const ADMIN = { auth: 'secret', scope: 'storage:buckets' } as const;

export async function bucketRoutes(app: FastifyInstance, { storage }: { storage: StorageService }): Promise<void> {
  app.get('/bucket', { config: ADMIN }, async (request) => (await storage.buckets.list(actorOf(request.caller!))).map(bucketJson));
  app.post('/bucket', { config: ADMIN }, async (request) => {
    const bucket = await storage.buckets.create(actorOf(request.caller!), (request.body ?? {}) as BucketInput & { id?: unknown; name?: unknown });
    return { name: bucket.id };
  });
  app.get<{ Params: { id: string } }>('/bucket/:id', { config: ADMIN }, async (request) => bucketJson(await storage.buckets.required(actorOf(request.caller!), request.params.id)));
  app.put<{ Params: { id: string } }>('/bucket/:id', { config: ADMIN }, async (request) => {
    await storage.buckets.update(actorOf(request.caller!), request.params.id, (request.body ?? {}) as BucketInput);
    return { message: 'Successfully updated' };
  });
  app.delete<{ Params: { id: string } }>('/bucket/:id', { config: ADMIN }, async (request) => {
    await storage.buckets.remove(actorOf(request.caller!), request.params.id);
    return { message: 'Successfully deleted' };
  });
  app.post<{ Params: { id: string } }>('/bucket/:id/empty', { config: ADMIN }, async (request) => {
    await storage.objects.empty(actorOf(request.caller!), request.params.id);
    return { message: 'Successfully emptied' };
  });
}

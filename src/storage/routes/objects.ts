import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from '../context.js';
import type { ListOptions } from '../listing.js';
import type { ListV2Options } from '../listing-v2.js';
import { fileObjectJson, objectInfoJson } from '../objects.js';
import { sendObject } from '../serve.js';
import type { StorageService } from '../service.js';

// storage-api's object routes that take JSON or nothing (uploads are in uploads.ts). Static words
// (list, move, sign, public…) win over a bucket id in the router, and bucket ids may not be one.

type Wild = { Params: { bucket: string; '*': string }; Querystring: { download?: string; token?: string } };
type BucketOnly = { Params: { bucket: string } };

const read = (request: FastifyRequest) => `storage:${(request.params as { bucket?: string }).bucket ?? ''}:read`;
const write = (request: FastifyRequest) => `storage:${(request.params as { bucket?: string }).bucket ?? ''}:write`;
// move and copy name their buckets in the body, which the scope check (before the body) cannot read.
const ANY_WRITE = 'storage:*:write';

export async function objectRoutes(app: FastifyInstance, { storage }: { storage: StorageService }): Promise<void> {
  const download = async (request: FastifyRequest<Wild>, reply: Parameters<typeof sendObject>[1]) => {
    const row = await storage.read(actorOf(request.caller!), request.params.bucket, request.params['*']);
    return sendObject(request, reply, storage.backend, row, { cache: 'private', download: request.query.download });
  };
  app.get<Wild>('/object/:bucket/*', { config: { scope: read } }, download);
  app.get<Wild>('/object/authenticated/:bucket/*', { config: { scope: read } }, download);

  app.get<Wild>('/object/info/:bucket/*', { config: { scope: read } }, async (request) =>
    objectInfoJson(await storage.read(actorOf(request.caller!), request.params.bucket, request.params['*'])));

  app.get<Wild>('/object/public/:bucket/*', { config: { auth: 'public' } }, async (request, reply) => {
    const row = await storage.readPublic(request.params.bucket, request.params['*']);
    return sendObject(request, reply, storage.backend, row, { cache: 'public', download: request.query.download });
  });

  app.post<BucketOnly>('/object/list/:bucket', { config: { scope: read } }, async (request) =>
    storage.objects.list(actorOf(request.caller!), request.params.bucket, (request.body ?? {}) as ListOptions));
  app.post<BucketOnly>('/object/list-v2/:bucket', { config: { scope: read } }, async (request) =>
    storage.objects.listV2(actorOf(request.caller!), request.params.bucket, (request.body ?? {}) as ListV2Options));

  app.delete<BucketOnly>('/object/:bucket', { config: { scope: write } }, async (request) => {
    const removed = await storage.objects.remove(actorOf(request.caller!), request.params.bucket, (request.body as { prefixes?: unknown } | undefined)?.prefixes);
    return removed.map(fileObjectJson);
  });

  app.post('/object/move', { config: { scope: ANY_WRITE } }, async (request) => {
    await storage.objects.move(actorOf(request.caller!), (request.body ?? {}) as Record<string, unknown>);
    return { message: 'Successfully moved' };
  });
  app.post('/object/copy', { config: { scope: ANY_WRITE } }, async (request) => {
    const row = await storage.objects.copy(actorOf(request.caller!), (request.body ?? {}) as Record<string, unknown>);
    return { Id: row.id, Key: `${row.bucket_id}/${row.name}` };
  });

  // Signed download URLs: made by a caller who may read the object, used by anyone holding the URL.
  app.post<Wild>('/object/sign/:bucket/*', { config: { scope: read } }, async (request) => {
    const body = (request.body ?? {}) as { expiresIn?: unknown };
    return { signedURL: await storage.sign(actorOf(request.caller!), request.params.bucket, request.params['*'], body.expiresIn) };
  });
  app.post<BucketOnly>('/object/sign/:bucket', { config: { scope: read } }, async (request) => {
    const body = (request.body ?? {}) as { expiresIn?: unknown; paths?: unknown };
    return storage.signMany(actorOf(request.caller!), request.params.bucket, body.paths, body.expiresIn);
  });
  app.get<Wild>('/object/sign/:bucket/*', { config: { auth: 'public' } }, async (request, reply) => {
    const row = await storage.readSigned(request.query.token, request.params.bucket, request.params['*']);
    return sendObject(request, reply, storage.backend, row, { cache: 'private', download: request.query.download });
  });

  app.post<Wild>('/object/upload/sign/:bucket/*', { config: { scope: write } }, async (request) => {
    const upsert = request.headers['x-upsert'] === 'true';
    return storage.signUpload(actorOf(request.caller!), request.params.bucket, request.params['*'], upsert);
  });
}

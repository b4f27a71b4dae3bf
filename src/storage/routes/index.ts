import type { FastifyInstance } from 'fastify';
import type { StorageService } from '../service.js';
import { bucketRoutes } from './buckets.js';
import { objectRoutes } from './objects.js';
import { uploadRoutes } from './uploads.js';

export interface StorageRoutesOptions {
  storage: StorageService;
  maxObjectBytes: number;
}

/** `/storage/v1`, storage-api's wire format. */
export async function storageRoutes(app: FastifyInstance, { storage, maxObjectBytes }: StorageRoutesOptions): Promise<void> {
  await app.register(bucketRoutes, { storage });
  await app.register(objectRoutes, { storage });
  await app.register(uploadRoutes, { storage, maxObjectBytes });
}

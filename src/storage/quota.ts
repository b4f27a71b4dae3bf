import { GatehouseError } from '../errors/index.js';
import type { Actor } from './context.js';
import type { ObjectRow, StorageStore } from './store.js';

// Per-user quotas (bytes and objects), for every way a user comes to own a new object: an upload
// and a copy (a copy belongs to its caller, so without this check copying one large object again
// and again would fill the disk past any quota). 0 means no limit.

export interface UserQuota {
  bytes: number;
  objects: number;
}

/**
 * The bytes the caller may still store, counting `replacing` (the object an upload overwrites) as
 * freed when it is theirs; throws when they may store no new object at all.
 */
export async function quotaRoom(store: StorageStore, quota: UserQuota, actor: Actor, replacing: ObjectRow | null): Promise<number> {
  if (actor.userId === null || (quota.bytes === 0 && quota.objects === 0)) return Infinity;
  const usage = await store.usageOf(actor.projectId, actor.environment, actor.userId);
  const freed = replacing && replacing.owner === actor.userId ? replacing.size : 0;
  if (quota.objects > 0 && !replacing && usage.objects + 1 > quota.objects) {
    throw new GatehouseError('storage_quota_exceeded', { message: `This user already stores ${usage.objects} objects, the quota.` });
  }
  if (quota.bytes === 0) return Infinity;
  const room = quota.bytes - usage.bytes + freed;
  if (room <= 0) throw new GatehouseError('storage_quota_exceeded');
  return room;
}

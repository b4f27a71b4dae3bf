import { GatehouseError } from '../errors/index.js';
import type { Actor } from './context.js';
import { allows, type BucketRules } from './rules.js';
import type { ObjectRow } from './store.js';

// Whether a caller may write an object's name: one decision for an upload and for signing an upload
// URL, so that a URL is never made for an upload that would then be refused (nor the reverse).
// Signing cannot know the metadata the upload will bring; it decides without it, which never allows
// more: a rule over a missing metadata key is unknown, and unknown never allows.

export interface WriteIntent {
  /** POST with x-upsert: true, or a signed upload that allows it. */
  upsert: boolean;
  /** PUT (storage-js update): the object must exist. */
  replaceOnly: boolean;
}

/** Throws the answer the caller gets when `actor` may not write `name` over `existing` (null: a free name). */
export function decideWrite(rules: BucketRules, actor: Actor, bucket: string, name: string, existing: ObjectRow | null, intent: WriteIntent, metadata: Readonly<Record<string, unknown>> | undefined): void {
  const ref = { bucket, name };
  if (existing) {
    const stored = { ...ref, owner: existing.owner, metadata: existing.metadata };
    const mayUpdate = allows(rules, 'update', actor.auth, stored);
    // An object the caller may not even see is missing to it, as everywhere else.
    if (intent.replaceOnly && !mayUpdate && !allows(rules, 'select', actor.auth, stored)) throw new GatehouseError('storage_object_not_found');
    // A name the caller may not replace answers as any taken name: no more said than that it is taken.
    if (!(intent.upsert || intent.replaceOnly) || !mayUpdate) throw new GatehouseError('storage_object_exists');
    return;
  }
  if (intent.replaceOnly) throw new GatehouseError('storage_object_not_found');
  if (!allows(rules, 'insert', actor.auth, { ...ref, owner: actor.userId, metadata })) {
    throw new GatehouseError('forbidden', { message: 'The rules of this bucket do not allow this upload.' });
  }
}

import type { ColumnModel, RowChange, TableModel } from '../../data/index.js';
import type { ObjectReadCheck, StorageObjectRecord } from '../../storage/index.js';
import type { Caller } from '../../access/index.js';
import { passesFilter, type RowFilter } from './filter.js';
import { kindOf, typeOfKind } from './kinds.js';
import type { ChangeEvent, ChangePayload } from './types.js';

// Storage objects as a `postgres_changes` relation (schema storage, table objects): the records
// are whole storage.objects rows (storage/changes.ts); a subscriber gets a change only if storage
// would let it select the object at that moment (storage/read-access.ts: the key's bucket scope,
// a public bucket, else the bucket's select rule), with the same UPDATE semantics as a table
// (feed.ts): an object moved or changed out of its sight reaches it as a DELETE of the id alone.
// Nothing is masked: whoever may select an object reads all of it.

const COLUMN_TYPES: ReadonlyArray<[keyof StorageObjectRecord, string]> = [
  ['id', 'text'], ['bucket_id', 'text'], ['name', 'text'], ['owner', 'text'], ['owner_id', 'text'],
  ['created_at', 'timestamptz'], ['updated_at', 'timestamptz'], ['last_accessed_at', 'timestamptz'],
  ['metadata', 'jsonb'], ['user_metadata', 'jsonb'], ['path_tokens', '_text'], ['version', 'text'],
];

/** realtime-js converts record values by these PostgreSQL type names. */
const META = COLUMN_TYPES.map(([name, type]) => ({ name, type }));

function column(name: string, type: ColumnModel['type']): ColumnModel {
  return { name, type, system: true, required: false, unique: false, default: null, maxLength: null, references: null, read: null, write: null };
}

/** What a filter may name (`bucket_id=eq.avatars`): the scalar columns, every one readable (the record is whole). */
export const OBJECTS_FILTER_MODEL: TableModel = {
  name: 'objects', physical: 'storage_objects',
  columns: new Map(COLUMN_TYPES
    .filter(([, type]) => type === 'text' || type === 'timestamptz')
    .map(([name, type]) => [name, column(name, type === 'text' ? 'text' : 'timestamp')])),
  rules: { select: [], insert: [], update: [], delete: [] }, spec: { columns: {} },
};

/** An object record from the bus, checked before rules read it: other versions of Gatehouse may share the bus. */
function isRecord(value: unknown): value is StorageObjectRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<StorageObjectRecord>;
  return typeof r.id === 'string' && typeof r.bucket_id === 'string' && typeof r.name === 'string'
    && (r.owner === null || typeof r.owner === 'string')
    && (r.user_metadata === null || (typeof r.user_metadata === 'object' && !Array.isArray(r.user_metadata)));
}

/** The changes of a message that are well-formed object changes (others are dropped). */
export function objectChanges(changes: readonly RowChange[]): Array<{ type: RowChange['type']; record: StorageObjectRecord | null; old: StorageObjectRecord | null }> {
  return changes.flatMap((c) => {
    const record = c.type === 'DELETE' ? null : c.record;
    const old = c.type === 'INSERT' ? null : c.old;
    if ((record !== null && !isRecord(record)) || (old !== null && !isRecord(old))) return [];
    if (record === null && old === null) return [];
    return [{ type: c.type, record, old }];
  });
}

export function bucketsOf(changes: ReturnType<typeof objectChanges>): string[] {
  return changes.flatMap((c) => [c.record?.bucket_id, c.old?.bucket_id]).filter((id): id is string => id !== undefined);
}

export interface ObjectSubscription {
  caller: Caller;
  event: ChangeEvent;
  filter: RowFilter | null;
}

/** What one subscriber gets of one object change, or null; payloads are shared through `memo`. */
export function answerObject(
  sub: ObjectSubscription, check: ObjectReadCheck, commitTimestamp: string,
  change: ReturnType<typeof objectChanges>[number], memo: Map<string, ChangePayload>,
): ChangePayload | null {
  const { record, old } = change;
  const newSeen = record !== null && check(sub.caller, record);
  const oldSeen = old !== null && check(sub.caller, old);
  const kind = kindOf(change.type, newSeen, oldSeen);
  if (kind === null) return null;
  const type = typeOfKind(kind);
  if (sub.event !== '*' && sub.event !== type) return null;
  // The filter sees the object the event is about: the new one, or the one that went.
  if (sub.filter && !passesFilter(sub.filter, kind === 'insert' || kind === 'update' ? record! : old!)) return null;
  const key = `${kind}|${oldSeen ? 1 : 0}`;
  let out = memo.get(key);
  if (out === undefined) {
    const base = { schema: 'storage', table: 'objects', commit_timestamp: commitTimestamp, type, columns: META, errors: null } as const;
    if (kind === 'gone') out = { ...base, record: {}, old_record: { id: old!.id } };
    else if (kind === 'delete') out = { ...base, record: {}, old_record: { ...old! } };
    else out = { ...base, record: { ...record! }, old_record: kind === 'update' && oldSeen ? { ...old! } : {} };
    memo.set(key, out);
  }
  return out;
}

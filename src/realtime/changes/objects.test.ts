// Object changes from the bus are checked before any rule reads them, and each subscriber's answer
// follows the table semantics: nothing unseen, a move out of sight is a DELETE of the id alone.
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../access/index.js';
import type { RowChange } from '../../data/index.js';
import type { ObjectReadCheck, StorageObjectRecord } from '../../storage/index.js';
import { parseRowFilter } from './filter.js';
import { answerObject, objectChanges, OBJECTS_FILTER_MODEL } from './objects.js';
import type { ChangePayload } from './types.js';

const record = (bucket: string, name: string): StorageObjectRecord => ({
  id: 'obj_1', bucket_id: bucket, name, owner: 'usr_a', owner_id: 'usr_a', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
  last_accessed_at: '2026-01-01T00:00:00.000Z', metadata: { eTag: '"e"', size: 1, mimetype: 'text/plain', cacheControl: 'max-age=3600', lastModified: '2026-01-01T00:00:00.000Z', contentLength: 1, httpStatusCode: 200 },
  user_metadata: null, path_tokens: name.split('/'), version: 'v1',
});
const caller = {} as Caller;
/** This subscriber may read the `open` bucket only. */
const openOnly: ObjectReadCheck = (_c, o) => o.bucket_id === 'open';
const answer = (change: RowChange, event: '*' | 'INSERT' | 'UPDATE' | 'DELETE' = '*', filter: string | null = null) => {
  const [c] = objectChanges([change]);
  const parsed = filter === null ? null : parseRowFilter(filter, OBJECTS_FILTER_MODEL, { group: 'user', uid: 'usr_a', role: null, claims: {} });
  return answerObject({ caller, event, filter: parsed }, openOnly, 't', c!, new Map<string, ChangePayload>());
};

describe('storage object changes', () => {
  it('drops malformed records from the bus before any rule reads them', () => {
    const bad: unknown[] = [
      { type: 'INSERT', record: { id: 1, bucket_id: 'open', name: 'x', owner: null, user_metadata: null }, old: null },
      { type: 'INSERT', record: { id: 'a', bucket_id: 'open', owner: null, user_metadata: null }, old: null },
      { type: 'DELETE', record: null, old: { id: 'a', bucket_id: 'open', name: 'x', owner: 5, user_metadata: null } },
      { type: 'UPDATE', record: { ...record('open', 'x'), user_metadata: [1] }, old: null },
      { type: 'DELETE', record: null, old: null },
    ];
    expect(objectChanges(bad as RowChange[])).toEqual([]);
    expect(objectChanges([{ type: 'INSERT', record: record('open', 'x'), old: null }])).toHaveLength(1);
  });

  it('answers as for a table: unseen → nothing; moved out of sight → DELETE of the id alone; moved into sight → UPDATE without the old', () => {
    expect(answer({ type: 'INSERT', record: record('closed', 'x'), old: null })).toBeNull();
    expect(answer({ type: 'DELETE', record: null, old: record('closed', 'x') })).toBeNull();
    expect(answer({ type: 'INSERT', record: record('open', 'x'), old: null })?.record).toMatchObject({ bucket_id: 'open', name: 'x' });
    const out = answer({ type: 'UPDATE', record: record('closed', 'secret/y'), old: record('open', 'x') });
    expect(out).toMatchObject({ type: 'DELETE', schema: 'storage', table: 'objects', record: {}, old_record: { id: 'obj_1' } });
    expect(JSON.stringify(out)).not.toContain('secret');
    expect(answer({ type: 'UPDATE', record: record('closed', 'secret/y'), old: record('open', 'x') }, 'UPDATE')).toBeNull();
    const into = answer({ type: 'UPDATE', record: record('open', 'y'), old: record('closed', 'secret/x') });
    expect(into).toMatchObject({ type: 'UPDATE', old_record: {} });
    expect(JSON.stringify(into)).not.toContain('secret');
  });

  it('filters on the object the event is about', () => {
    const moved = { type: 'UPDATE' as const, record: record('open', 'b'), old: record('open', 'a') };
    expect(answer(moved, '*', 'name=eq.b')?.type).toBe('UPDATE');
    expect(answer(moved, '*', 'name=eq.a')).toBeNull();
    expect(answer({ type: 'DELETE', record: null, old: record('open', 'a') }, '*', 'bucket_id=eq.open')?.type).toBe('DELETE');
    expect(() => parseRowFilter('metadata=eq.x', OBJECTS_FILTER_MODEL, { group: 'user', uid: null, role: null, claims: {} })).toThrow();
  });
});

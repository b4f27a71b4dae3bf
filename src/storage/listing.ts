import { GatehouseError } from '../errors/index.js';
import type { Actor } from './context.js';
import { checkPrefix } from './paths.js';
import { resumeAfter, walkEntries } from './folder-walk.js';
import type { BucketRules } from './rules.js';
import type { ObjectRow, StorageStore } from './store.js';

// storage-api's `list`: the files and folders directly under a folder, only among the objects the
// caller may select (the rule is part of the query, so what it may not see is neither returned nor
// counted). The folder walk (folder-walk.ts) reads a page of entries, folders and files, in one
// statement, jumping over each folder's whole run instead of reading its objects.

export interface ListOptions {
  prefix?: unknown;
  limit?: unknown;
  offset?: unknown;
  sortBy?: unknown;
  search?: unknown;
}

export interface ListEntry {
  name: string;
  id: string | null;
  updated_at: string | null;
  created_at: string | null;
  last_accessed_at: string | null;
  metadata: ReturnType<typeof objectMetadata> | null;
}

const BATCH = 500;
/** Entries read at most for one listing sorted by something else than the name. */
const MAX_SCAN_ENTRIES = 10_000;
const SORT_COLUMNS = new Set(['name', 'created_at', 'updated_at', 'last_accessed_at']);

export function objectMetadata(row: ObjectRow) {
  return {
    eTag: `"${row.etag}"`, size: row.size, mimetype: row.mimetype, cacheControl: row.cache_control ?? 'max-age=3600',
    lastModified: row.updated_at, contentLength: row.size, httpStatusCode: 200,
  };
}

export function intIn(value: unknown, fallback: number, min: number, max: number, field: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new GatehouseError('validation_failed', { message: `${field} must be an integer from ${min} to ${max}.` });
  }
  return value;
}

export async function listObjects(store: StorageStore, actor: Actor, bucketId: string, rules: BucketRules, options: ListOptions): Promise<ListEntry[]> {
  const prefix = checkPrefix(options.prefix);
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const limit = intIn(options.limit, 100, 1, 1000, 'limit');
  const offset = intIn(options.offset, 0, 0, 100_000, 'offset');
  const sortBy = (options.sortBy ?? {}) as { column?: unknown; order?: unknown };
  const column = typeof sortBy.column === 'string' && SORT_COLUMNS.has(sortBy.column) ? sortBy.column : 'name';
  const descending = typeof sortBy.order === 'string' && sortBy.order.toLowerCase() === 'desc';
  const search = typeof options.search === 'string' ? options.search.toLowerCase() : '';
  // Sorted by name ascending, the scan can stop at the page's end; otherwise it reads (boundedly) and sorts.
  const wanted = column === 'name' && !descending ? offset + limit : MAX_SCAN_ENTRIES;
  const upper = folder === '' ? null : `${folder.slice(0, -1)}0`;
  const entries: ListEntry[] = [];
  let position = { from: folder, inclusive: true };
  scan: while (entries.length < wanted) {
    // Without a search every entry counts, so a page reads no more entries than it shows.
    const steps = search === '' ? Math.min(BATCH, wanted - entries.length) : BATCH;
    const rows = await walkEntries(store, actor, bucketId, rules, { prefix: folder, end: upper, ...position, steps });
    for (const row of rows) {
      const next = resumeAfter(folder, row);
      position = next;
      if (next.folder !== null) {
        const sub = next.folder.slice(folder.length, -1);
        if (sub.toLowerCase().startsWith(search)) entries.push({ name: sub, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null });
      } else {
        const rest = row.name.slice(folder.length);
        if (rest.toLowerCase().startsWith(search)) {
          entries.push({ name: rest, id: row.id, updated_at: row.updated_at, created_at: row.created_at, last_accessed_at: row.updated_at, metadata: objectMetadata(row) });
        }
      }
      if (entries.length >= wanted) break scan;
    }
    if (rows.length < steps) break;
  }
  if (column !== 'name' || descending) {
    const key = (e: ListEntry) => (column === 'name' ? e.name : (e as unknown as Record<string, string | null>)[column] ?? '');
    entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (descending ? -1 : 1));
  }
  return entries.slice(offset, offset + limit);
}

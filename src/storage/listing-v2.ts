import { sql } from 'kysely';
import { GatehouseError } from '../errors/index.js';
import type { Actor } from './context.js';
import { intIn, objectMetadata } from './listing.js';
import { checkPrefix } from './paths.js';
import { resumeAfter, walkEntries } from './folder-walk.js';
import { allowedRows, type BucketRules } from './rules.js';
import { toObjectRow, type ObjectRow, type StorageStore } from './store.js';

// storage-api's `list-v2` (storage-js `listV2`): the objects whose name starts with `prefix` (any
// text, not only a folder), a page at a time with an opaque cursor; with `with_delimiter`, the
// names past the prefix fold into folders at their next `/`, as S3's CommonPrefixes. As in `list`,
// the caller's select rule is part of every query: what it may not see is neither returned, nor
// counted, nor a folder. The cursor only says where to resume; it never widens what is visible.

export interface ListV2Options {
  prefix?: unknown;
  limit?: unknown;
  cursor?: unknown;
  with_delimiter?: unknown;
  sortBy?: unknown;
}

export interface ListV2Object {
  id: string;
  key: string;
  name: string;
  updated_at: string;
  created_at: string;
  last_accessed_at: string;
  metadata: ReturnType<typeof objectMetadata>;
}

export interface ListV2Result {
  hasNext: boolean;
  nextCursor?: string;
  folders: Array<{ key: string; name: string }>;
  objects: ListV2Object[];
}

type SortColumn = 'name' | 'created_at' | 'updated_at';
const SORT_COLUMNS = new Set<string>(['name', 'created_at', 'updated_at']);
const BATCH = 500;
const MAX_CURSOR = 4096;

/** Where the next page starts: the last entry's name, and its sort value when not sorting by name. */
interface Cursor { n: string; v?: string }

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(value: unknown): Cursor | null {
  if (value === undefined || value === null || value === '') return null;
  const bad = () => new GatehouseError('validation_failed', { message: 'cursor is not one this server returned.' });
  if (typeof value !== 'string' || value.length > MAX_CURSOR || !/^[A-Za-z0-9_-]+$/.test(value)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const c = parsed as Partial<Cursor> | null;
  if (c === null || typeof c !== 'object' || typeof c.n !== 'string' || (c.v !== undefined && typeof c.v !== 'string')) throw bad();
  return { n: c.n, ...(c.v === undefined ? {} : { v: c.v }) };
}

/** The least string above every string that starts with `prefix` (code point order = byte order of UTF-8). */
function prefixEnd(prefix: string): string | null {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
  }
  return null;
}

function sortOf(value: unknown): { column: SortColumn; descending: boolean } {
  if (value === undefined || value === null) return { column: 'name', descending: false };
  const s = value as { column?: unknown; order?: unknown };
  if (typeof s !== 'object' || typeof s.column !== 'string' || !SORT_COLUMNS.has(s.column)
    || (s.order !== undefined && s.order !== 'asc' && s.order !== 'desc')) {
    throw new GatehouseError('validation_failed', { message: 'sortBy must be { column: name | created_at | updated_at, order?: asc | desc }.' });
  }
  return { column: s.column as SortColumn, descending: s.order === 'desc' };
}

function objectEntry(row: ObjectRow): ListV2Object {
  return {
    id: row.id, key: row.name, name: row.name, updated_at: row.updated_at, created_at: row.created_at,
    last_accessed_at: row.updated_at, metadata: objectMetadata(row),
  };
}

export async function listObjectsV2(store: StorageStore, actor: Actor, bucketId: string, rules: BucketRules, options: ListV2Options): Promise<ListV2Result> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new GatehouseError('validation_failed', { message: 'The body must be a JSON object.' });
  }
  const prefix = checkPrefix(options.prefix);
  const limit = intIn(options.limit, 1000, 1, 1000, 'limit');
  const cursor = decodeCursor(options.cursor);
  if (options.with_delimiter !== undefined && options.with_delimiter !== null && typeof options.with_delimiter !== 'boolean') {
    throw new GatehouseError('validation_failed', { message: 'with_delimiter must be a boolean.' });
  }
  const sort = sortOf(options.sortBy);
  const visible = () => visibleUnder(store, actor, bucketId, rules, prefix);
  return options.with_delimiter === true
    ? listFolded(store, actor, bucketId, rules, prefix, limit, cursor)
    : listFlat(visible, limit, cursor, sort);
}

/** The caller's visible objects whose name starts with `prefix`. */
function visibleUnder(store: StorageStore, actor: Actor, bucketId: string, rules: BucketRules, prefix: string) {
  const end = prefixEnd(prefix);
  let query = store.db.selectFrom('storage_objects').selectAll()
    .where('project_id', '=', actor.projectId).where('environment', '=', actor.environment).where('bucket_id', '=', bucketId)
    .where('name', '>=', prefix)
    .where((eb) => allowedRows(eb, rules, 'select', actor.auth, store.json));
  if (end !== null) query = query.where('name', '<', end);
  return query;
}

type VisibleQuery = () => ReturnType<typeof visibleUnder>;

/** Every object under the prefix, sorted by one column then by name (the tie-breaker and cursor). */
async function listFlat(visible: VisibleQuery, limit: number, cursor: Cursor | null, sort: { column: SortColumn; descending: boolean }): Promise<ListV2Result> {
  const direction: 'asc' | 'desc' = sort.descending ? 'desc' : 'asc';
  const past = sort.descending ? '<' : '>';
  let query = visible();
  if (cursor) {
    if (sort.column === 'name') query = query.where('name', past, cursor.n);
    else {
      if (cursor.v === undefined) throw new GatehouseError('validation_failed', { message: 'cursor is not one this server returned.' });
      const { n, v } = cursor;
      const column = sort.column;
      query = query.where((eb) => eb.or([eb(column, past, v), eb.and([eb(column, '=', v), eb('name', past, n)])]));
    }
  }
  if (sort.column !== 'name') query = query.orderBy(sort.column, direction);
  const rows = (await query.orderBy(sql`name`, direction).limit(limit + 1).execute()).map(toObjectRow);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const hasNext = rows.length > limit;
  return {
    hasNext,
    ...(hasNext && last ? { nextCursor: encodeCursor(sort.column === 'name' ? { n: last.name } : { n: last.name, v: last[sort.column] }) } : {}),
    folders: [],
    objects: page.map(objectEntry),
  };
}

/** Objects right under the prefix and the folders after it, by name: one entry per folder, whatever it holds. */
async function listFolded(store: StorageStore, actor: Actor, bucketId: string, rules: BucketRules, prefix: string, limit: number, cursor: Cursor | null): Promise<ListV2Result> {
  const folders: ListV2Result['folders'] = [];
  const objects: ListV2Object[] = [];
  // A folder entry ends with `/` (an object name never does): resume past its whole run, [f/, f0).
  let position = cursor === null
    ? { from: prefix, inclusive: true }
    : cursor.n.endsWith('/') ? { from: `${cursor.n.slice(0, -1)}0`, inclusive: true } : { from: cursor.n, inclusive: false };
  let lastName: string | null = null;
  let hasNext = false;
  scan: for (;;) {
    // One entry more than the page holds tells whether another page exists.
    const steps = Math.min(BATCH, limit + 1 - folders.length - objects.length);
    const rows = await walkEntries(store, actor, bucketId, rules, { prefix, end: prefixEnd(prefix), ...position, steps });
    for (const row of rows) {
      if (folders.length + objects.length === limit) { hasNext = true; break scan; }
      const next = resumeAfter(prefix, row);
      position = next;
      if (next.folder !== null) {
        folders.push({ key: next.folder, name: next.folder });
        lastName = next.folder;
      } else {
        objects.push(objectEntry(row));
        lastName = row.name;
      }
    }
    if (rows.length < steps) break;
  }
  return { hasNext, ...(hasNext && lastName !== null ? { nextCursor: encodeCursor({ n: lastName }) } : {}), folders, objects };
}

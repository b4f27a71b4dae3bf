import { sql, type RawBuilder } from 'kysely';
import type { Actor } from './context.js';
import { allowedRows, type BucketRules } from './rules.js';
import { toObjectRow, type ObjectRow, type StorageStore } from './store.js';

// A folder listing in one statement per page instead of one query per folder. Names sort by bytes
// on both engines (the migration makes `name` byte-ordered), so every name under a folder `f/` lies
// in one run, [f/, f0): a walk from one entry to the next jumps over a whole folder's run with one
// index seek. The walk is a recursive query (SQLite and PostgreSQL alike), each step the first
// visible name after the last entry; the caller's select rule is part of every step, so a folder
// appears only if it holds an object the caller may see. Each step is one entry: an object right
// under the prefix, or the first visible object of a folder (the caller names the folder by it).

export interface WalkOptions {
  /** Where folder names start: a folder (`a/b/`, or '' for the root) or, for list-v2, any text. */
  prefix: string;
  /** Names stop below this (null: no end). */
  end: string | null;
  /** The first name to consider, and whether it may itself be an entry. */
  from: string;
  inclusive: boolean;
  /** Entries at most (one step each). */
  steps: number;
}

/** Rows of the entries after `from`, in name order: at most `steps`, fewer only at the end of the run. */
export async function walkEntries(store: StorageStore, actor: Actor, bucketId: string, rules: BucketRules, options: WalkOptions): Promise<ObjectRow[]> {
  // Character positions as SQL counts them (code points), not JS string indexes.
  const start = [...options.prefix].length + 1;
  const position = store.json === 'json1' ? sql.raw('instr') : sql.raw('strpos');
  const rest = sql`substr(walk.name, ${sql.lit(start)})`;
  const first = (after: RawBuilder<unknown>) => {
    let query = store.db.selectFrom('storage_objects').select('name')
      .where('project_id', '=', actor.projectId).where('environment', '=', actor.environment).where('bucket_id', '=', bucketId)
      // Names start with the prefix: a resume point before it (a cursor is the client's) widens nothing.
      .where('name', '>=', options.prefix)
      .where((eb) => allowedRows(eb, rules, 'select', actor.auth, store.json))
      .where(after as RawBuilder<boolean>)
      .orderBy(sql`name`).limit(1);
    if (options.end !== null) query = query.where('name', '<', options.end);
    return query;
  };
  const seed = options.inclusive ? sql`storage_objects.name >= ${options.from}` : sql`storage_objects.name > ${options.from}`;
  // Past a folder entry: everything under `<prefix><folder>/`, i.e. from `<prefix><folder>0` on.
  const next = sql`(case when ${position}(${rest}, '/') > 0
    then storage_objects.name >= substr(walk.name, 1, ${sql.lit(start - 1)} + ${position}(${rest}, '/') - 1) || '0'
    else storage_objects.name > walk.name end)`;
  const { rows } = await sql<Record<string, unknown>>`with recursive walk(name, step) as (
      select (${first(seed)}), 1
      union all
      select (${first(next)}), step + 1 from walk where walk.name is not null and step < ${sql.lit(options.steps)}
    )
    select storage_objects.* from walk
    join storage_objects on storage_objects.project_id = ${actor.projectId} and storage_objects.environment = ${actor.environment}
      and storage_objects.bucket_id = ${bucketId} and storage_objects.name = walk.name
    order by walk.step`.execute(store.db);
  return rows.map((row) => toObjectRow(row as Parameters<typeof toObjectRow>[0]));
}

/** Where a walk resumes after an entry: past the folder's whole run, or just past the object. */
export function resumeAfter(prefix: string, row: ObjectRow): { from: string; inclusive: boolean; folder: string | null } {
  const slash = row.name.indexOf('/', prefix.length);
  if (slash < 0) return { from: row.name, inclusive: false, folder: null };
  return { from: `${row.name.slice(0, slash)}0`, inclusive: true, folder: row.name.slice(0, slash + 1) };
}

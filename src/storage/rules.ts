import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import {
  compileRules, evaluateEntry, parseRuleEntry, RuleSyntaxError, ruleColumns, toExpression,
  type AuthContext, type ColumnModel, type ColumnResolver, type RuleEntry, type TableModel,
} from '../data/index.js';
import type { EngineCapabilities } from '../db/index.js';
import { GatehouseError } from '../errors/index.js';
import { foldersOf, RULE_FOLDERS } from './paths.js';

// Per-bucket access rules in the Data API's grammar and engine: the same parser, the same SQL
// compiler (listings filter in the query) and the same in-memory evaluator (a name about to be
// written has no row yet). An object is a row of these columns:
//   bucket, name, owner (the creating user's id, null for a secret key), folder[0]…folder[3],
//   metadata.<key> (a string at that top-level key of the object's user metadata, else null)
// and the groups admin, user, guest and self (owner == the caller).

export const STORAGE_OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;
export type StorageOperation = (typeof STORAGE_OPERATIONS)[number];
export type BucketRules = Readonly<Record<StorageOperation, readonly RuleEntry[]>>;
export type BucketRuleSources = Partial<Record<StorageOperation, string[]>>;

/** A private bucket without rules: each user reaches only their own objects; admins reach all. */
const DEFAULT_SOURCES: Record<StorageOperation, string[]> = { select: ['admin', 'self'], insert: ['admin', 'user'], update: ['admin', 'self'], delete: ['admin', 'self'] };
const MAX_ENTRIES = 16;

function column(name: string, physical: string): ColumnModel & { physical: string } {
  return { name, physical, type: 'text', system: true, required: false, unique: false, default: null, maxLength: null, references: null, read: null, write: null };
}

const COLUMNS = new Map<string, ColumnModel & { physical: string }>([
  ['bucket', column('bucket', 'bucket_id')],
  ['name', column('name', 'name')],
  ['owner', column('owner', 'owner')],
  // The `self` group reads the Data API's owner column: here it is the object's owner.
  ['created_by', column('created_by', 'owner')],
  ...Array.from({ length: RULE_FOLDERS }, (_, i) => [`folder[${i}]`, column(`folder[${i}]`, `folder_${i}`)] as const),
]);

// `metadata.<key>`: one level, a key of letters, digits and `_` (the rule tokenizer admits no
// quote, no space, no bracket there), so a key can never change the shape of a JSON path. Only a
// JSON string is a value: a number, boolean, object or array at the key is null (unknown), which
// both engines agree on, where SQLite's json_extract would keep 5 a number and PostgreSQL's ->>
// would make it '5'.
const METADATA_KEY = /^metadata\.([A-Za-z_][A-Za-z0-9_]{0,63})$/;

function metadataKey(name: string): string | null {
  return METADATA_KEY.exec(name)?.[1] ?? null;
}

/** The fixed columns, and a text column for every well-formed `metadata.<key>`. */
class ObjectColumns extends Map<string, ColumnModel & { physical: string }> {
  override get(name: string) {
    return super.get(name) ?? (metadataKey(name) === null ? undefined : column(name, 'metadata'));
  }
  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

const OBJECT_COLUMNS = new ObjectColumns(COLUMNS);

const OBJECTS_MODEL: TableModel = {
  name: 'storage.objects', physical: 'storage_objects', columns: OBJECT_COLUMNS,
  rules: { select: [], insert: [], update: [], delete: [] }, spec: { columns: {} },
};

/** The string at a top-level key of the metadata column, else null; the key is a bound value. */
function metadataText(json: EngineCapabilities['json'], key: string) {
  if (json === 'json1') {
    const path = `$."${key}"`;
    return sql<string | null>`(case when json_type(storage_objects.metadata, ${path}) = 'text' then json_extract(storage_objects.metadata, ${path}) end)`;
  }
  return sql<string | null>`(case when json_typeof(storage_objects.metadata::json -> ${key}::text) = 'string' then storage_objects.metadata::json ->> ${key}::text end)`;
}

function resolverFor(json: EngineCapabilities['json']): ColumnResolver {
  return {
    table: OBJECTS_MODEL,
    model: (name) => OBJECT_COLUMNS.get(name) ?? null,
    ref(eb, name) {
      const key = metadataKey(name);
      if (key !== null) return metadataText(json, key);
      const c = COLUMNS.get(name);
      if (!c) throw new TypeError(`storage rules: no column ${name}`);
      return eb.ref(`storage_objects.${c.physical}`);
    },
  };
}

const RESOLVERS = { json1: resolverFor('json1'), postgres: resolverFor('postgres') } as const;

/** Rule sources → parsed rules; a bad entry is a 400 naming it. Absent operations keep the default. */
export function parseBucketRules(sources: BucketRuleSources | null | undefined): BucketRules {
  const out = {} as Record<StorageOperation, RuleEntry[]>;
  for (const op of STORAGE_OPERATIONS) {
    const list = sources?.[op] ?? DEFAULT_SOURCES[op];
    if (!Array.isArray(list) || list.length > MAX_ENTRIES) throw invalidRule(`${op}: a list of at most ${MAX_ENTRIES} rules`);
    out[op] = list.map((source, i) => {
      if (typeof source !== 'string') throw invalidRule(`${op}[${i}]: not a string`);
      try {
        const entry = parseRuleEntry(source, { keyed: ['metadata'] });
        if (entry.expr) {
          for (const name of ruleColumns(entry.expr)) {
            if (!OBJECT_COLUMNS.has(name)) throw invalidRule(`${op}[${i}]: unknown name ${name} (use bucket, name, owner, folder[0]…folder[${RULE_FOLDERS - 1}], metadata.<key> with a key of at most 64 letters, digits or _)`);
          }
        }
        return entry;
      } catch (error) {
        if (error instanceof RuleSyntaxError) throw invalidRule(`${op}[${i}]: ${error.message}`);
        throw error;
      }
    });
  }
  return out;
}

// Rules as stored (the JSON text of a bucket row) → parsed, once per distinct text: a request reads
// its bucket's row, and parsing every entry again on each request was most of a small request's
// rule cost. Keyed by the text itself, so a changed rule is a new key (never a stale entry); bounded,
// oldest out first. Parsed rules are never mutated, so one copy serves every request.
const PARSED_CACHE_SIZE = 256;
const parsedByText = new Map<string, { sources: BucketRuleSources | null; rules: BucketRules }>();
const DEFAULT_RULES = parseBucketRules(null);

/** A bucket row's `rules` column (JSON text, or null: the defaults) as sources and parsed rules. */
export function rulesFromText(text: string | null): { sources: BucketRuleSources | null; rules: BucketRules } {
  if (text === null) return { sources: null, rules: DEFAULT_RULES };
  const hit = parsedByText.get(text);
  if (hit) return hit;
  const sources = JSON.parse(text) as BucketRuleSources;
  const entry = { sources, rules: parseBucketRules(sources) };
  parsedByText.set(text, entry);
  if (parsedByText.size > PARSED_CACHE_SIZE) parsedByText.delete(parsedByText.keys().next().value!);
  return entry;
}

function invalidRule(reason: string): GatehouseError {
  return new GatehouseError('validation_failed', { message: `A bucket rule is not valid: ${reason}.`, details: { reason } });
}

/** What rules see of an object. */
export interface RuleObject {
  bucket: string;
  name: string;
  owner: string | null;
  /** The user metadata: the stored JSON text of a row, or the object an upload brings. */
  metadata?: string | Readonly<Record<string, unknown>> | null;
}

/** The object as the row rules read; build it once to check many callers (allowsRow). */
export function ruleRow(object: RuleObject): Record<string, unknown> {
  const folders = foldersOf(object.name);
  const row: Record<string, unknown> = { bucket: object.bucket, name: object.name, owner: object.owner, created_by: object.owner };
  folders.forEach((f, i) => { row[`folder[${i}]`] = f; });
  const metadata = typeof object.metadata === 'string' ? (JSON.parse(object.metadata) as unknown) : object.metadata;
  if (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)) {
    // Own keys only, strings only: what the SQL side reads (see metadataText).
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value === 'string' && metadataKey(`metadata.${key}`) !== null) row[`metadata.${key}`] = value;
    }
  }
  return row;
}

/** In memory: whether the caller may do `op` on this object (unknown never allows). */
export function allows(rules: BucketRules, op: StorageOperation, auth: AuthContext, object: RuleObject): boolean {
  return allowsRow(rules, op, auth, ruleRow(object));
}

/** allows() on a row already built by ruleRow(). */
export function allowsRow(rules: BucketRules, op: StorageOperation, auth: AuthContext, row: Readonly<Record<string, unknown>>): boolean {
  return rules[op].some((entry) => evaluateEntry(OBJECTS_MODEL, row, auth, entry) === true);
}

/** In SQL: the predicate over storage_objects of the rows the caller may `op`. */
export function allowedRows(eb: ExpressionBuilder<any, any>, rules: BucketRules, op: StorageOperation, auth: AuthContext, json: EngineCapabilities['json']): Expression<SqlBool> {
  return toExpression(compileRules(eb, RESOLVERS[json], auth, rules[op]));
}

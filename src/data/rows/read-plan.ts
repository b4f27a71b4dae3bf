import { createHash } from 'node:crypto';
import { expressionBuilder, sql, type AliasableExpression, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import type { EngineCapabilities } from '../../db/index.js';
import { accessClass, maskedRef, readAccess, readableColumn, readableColumns, type ColumnAccess } from '../columns/permissions.js';
import { buildConditions, prepareConditions, type Prepared } from '../query/compile.js';
import type { OrderItem, ParsedQuery, SelectItem as ParsedSelectItem } from '../query/ast.js';
import { buildFolded, combinePredicates, foldRules, isConstant, toExpression, type Folded, type FoldedNode, type Values } from '../rules/compile.js';
import type { AuthContext } from '../rules/context.js';
import { createResolver, type ColumnResolver } from '../rules/resolver.js';
import type { ColumnModel, TableModel } from '../schema/model.js';
import { decodeValue } from '../schema/values.js';

/** What a plan is made with (a part of RowContext, which holds the plans). */
export interface PlanContext {
  db: Kysely<any>;
  capabilities: EngineCapabilities;
}

// The Data API's read fast path (issue 18). A read's SQL depends only on its *shape*: the table's
// schema version, the select list with the caller's access to each column, the order, the URL's
// conditions with their columns and operators, and the select rules as folded for the caller
// (which groups and comparisons the caller's values decided). The values — filter values, the
// caller's id, claims a rule compares with a column, the offset — are bound parameters and never
// part of the key. The limit is the exception: it is part of the shape and written into the SQL as a
// number, because SQLite compiles a statement again whenever a bound LIMIT is bound anew
// (db/inline-limit.ts), which was a third of a point read's cost.
//
// So each request computes its shape and values (the same checks, in the same order, as building
// the query: a bad column or value is still the same 400/403), and the SQL, its parameter order and
// a row serialiser are made once per shape and reused. The key is the printed shape, which holds
// slot numbers where values go: two requests with the same key get the same SQL by construction.

/** A value's place in a plan, while its SQL is compiled: Kysely puts it in the parameter list. */
class Slot {
  constructor(readonly index: number) {}
}

interface SelectItem { alias: string; name: string; how: ColumnAccess }

export interface ReadShape {
  select: SelectItem[];
  /** The models of `select`'s columns: the table's, so not part of the key (its version is). */
  columns: ColumnModel[];
  order: Array<{ name: string; how: ColumnAccess; direction: 'asc' | 'desc'; nulls: 'first' | 'last' }>;
  rules: Folded;
  where: Prepared[];
  /** Written into the SQL (a checked non-negative integer, not client text). */
  limit: number;
  offsetSlot: number;
  count: boolean;
  stripNulls: boolean;
}

/** Where each SQL parameter comes from: a slot of the request's values, or a constant of the shape. */
type ParamSource = { slot: number } | { constant: unknown };

interface Statement { sql: string; params: ParamSource[] }

export interface ReadPlan {
  /** The rules deny every row to this shape of caller: empty, no query. */
  denied: boolean;
  rows: Statement | null;
  total: Statement | null;
  /** The names the answer's rows carry, in select order (what this caller may read of what it asked). */
  columns: readonly string[];
  /** Stored rows (arrays of c0, c1…) to the response's JSON array, without building row objects. */
  toJson(rows: ReadonlyArray<ReadonlyArray<unknown>>): string;
  /** Stored rows to objects (.single(), and tests). */
  decode(rows: ReadonlyArray<ReadonlyArray<unknown>>): Array<Record<string, unknown>>;
}

export interface ReadInput {
  table: TableModel;
  auth: AuthContext;
  query: ParsedQuery;
  count: boolean;
  limit: number;
  offset: number;
  stripNulls: boolean;
}

/** Slot 0 is always the caller's id: masked columns (`self` access) compare created_by with it. */
const UID_SLOT = 0;

/** The select list or the order resolved for one class of caller (columns/permissions.ts accessClass). */
interface SelectPart { select: SelectItem[]; columns: ColumnModel[] }
type OrderPart = ReadShape['order'];

// select= and order= come parsed as frozen arrays, one per distinct text (query/parse.ts). Resolving
// them (each column's model and the caller's access) depends only on the table model, that array
// and the caller's access class, so it is kept per table model (a schema change is a new model)
// and class, by the parsed array: weakly, so the parser's bound bounds these too. A select or order
// the caller may not read throws its 400/403 each time and is never kept.
const selectParts = new WeakMap<TableModel, Map<string, WeakMap<readonly ParsedSelectItem[], SelectPart>>>();
const orderParts = new WeakMap<TableModel, Map<string, WeakMap<readonly OrderItem[], OrderPart>>>();

function partsFor<K extends object, V>(all: WeakMap<TableModel, Map<string, WeakMap<K, V>>>, table: TableModel, auth: AuthContext): WeakMap<K, V> {
  let byClass = all.get(table);
  if (byClass === undefined) all.set(table, (byClass = new Map()));
  const cls = accessClass(auth);
  let parts = byClass.get(cls);
  if (parts === undefined) byClass.set(cls, (parts = new WeakMap()));
  return parts;
}

function resolveSelect(resolver: ColumnResolver, auth: AuthContext, items: readonly ParsedSelectItem[]): SelectPart {
  const select: SelectItem[] = [];
  const columns: ColumnModel[] = [];
  for (const item of items) {
    if (item.kind === 'star') {
      for (const name of readableColumns(resolver.table, auth)) {
        const column = resolver.table.columns.get(name)!;
        select.push({ alias: name, name, how: readAccess(column, auth) });
        columns.push(column);
      }
    } else {
      const column = readableColumn(resolver, auth, item.column);
      select.push({ alias: item.alias, name: item.column, how: readAccess(column, auth) });
      columns.push(column);
    }
  }
  // Shared by every request of this shape and kept in its plan: never changed.
  Object.freeze(select);
  Object.freeze(columns);
  return { select, columns };
}

function resolveOrder(resolver: ColumnResolver, auth: AuthContext, items: readonly OrderItem[]): OrderPart {
  return Object.freeze(items.map((item) => ({ name: item.column, how: readAccess(readableColumn(resolver, auth, item.column), auth), direction: item.direction, nulls: item.nulls }))) as OrderPart;
}

function cachedPart<K extends object, V>(parts: WeakMap<K, V>, items: K, resolve: () => V): V {
  let part = parts.get(items);
  if (part === undefined) {
    part = resolve();
    // Only frozen (parsed, shared) arrays are kept: anything else is one request's own.
    if (Object.isFrozen(items)) parts.set(items, part);
  }
  return part;
}

/** The request's shape (checked: the 400s and 403s of a bad select, order or filter) and values. */
export function readShape(ctx: PlanContext, resolver: ColumnResolver, input: ReadInput): { shape: ReadShape; values: Values } {
  const { auth, query } = input;
  const table = resolver.table;
  const values: Values = [auth.uid];
  // Checked in the order a query is built in, so the same bad request gets the same error.
  const { select, columns } = cachedPart(partsFor(selectParts, table, auth), query.select, () => resolveSelect(resolver, auth, query.select));
  const order = cachedPart(partsFor(orderParts, table, auth), query.order, () => resolveOrder(resolver, auth, query.order));
  // Conditions before rules, as rowPredicate: errors never depend on data.
  const where = prepareConditions(resolver, auth, ctx.capabilities, query.where, values);
  const rules = foldRules(resolver, auth, resolver.table.rules.select, values);
  if (!Number.isSafeInteger(input.limit) || input.limit < 0) throw new Error(`a read's limit must be a non-negative integer: ${input.limit}`);
  const offsetSlot = values.push(input.offset) - 1;
  return { shape: { select, columns, order, rules, where, limit: input.limit, offsetSlot, count: input.count, stripNulls: input.stripNulls }, values };
}

// The key, printed by hand: JSON.stringify of the shape was a measurable part of a point read
// (issue 18). Every node gets its own prefix and brackets and column names are identifiers (no
// ':', ',', ';', '(' or ')'); aliases, the only client text, are JSON strings. So two different
// shapes never print the same.
function foldedKey(f: Folded | FoldedNode | null): string {
  if (f === null) return 'u';
  if (f === true) return 't';
  if (f === false) return 'f';
  switch (f.k) {
    case 'cmp': return `c(${f.col}${f.op}${f.slot})`;
    case 'is': return `i(${f.col}${f.not ? '!' : ''})`;
    case 'cols': return `k(${f.col}${f.op}${f.other})`;
    case 'own': return `o(${f.slot})`;
    case 'not': return `!(${foldedKey(f.item)})`;
    default: {
      let key = `${f.k}(`;
      for (const item of f.items) key += `${foldedKey(item)},`;
      return `${key})`;
    }
  }
}

function preparedKey(p: Prepared): string {
  const neg = p.neg ? '!' : '';
  if (p.k !== 'f') {
    let key = `${p.k}${neg}(`;
    for (const item of p.items) key += `${preparedKey(item)},`;
    return `${key})`;
  }
  const form = p.form;
  let what: string;
  switch (form.f) {
    case 'null': what = 'n'; break;
    case 'bool': what = `b${form.bit}`; break;
    case 'in': what = `in${form.slots.join('.')}`; break;
    case 'cmp': what = `${form.op}${form.slot}`; break;
    default: what = `${form.f}${form.slot}`;
  }
  return `f${neg}(${p.col}:${p.how}:${what})`;
}

// The select and order parts of a key, printed once per resolved list (the same array for every
// request of one select text and class of caller, see readShape).
const listKeys = new WeakMap<object, string>();

function selectKey(select: readonly SelectItem[]): string {
  let key = listKeys.get(select);
  if (key === undefined) {
    key = '';
    for (const item of select) key += `${JSON.stringify(item.alias)}:${item.name}:${item.how},`;
    listKeys.set(select, key);
  }
  return key;
}

function orderKey(order: ReadShape['order']): string {
  let key = listKeys.get(order);
  if (key === undefined) {
    key = '';
    for (const item of order) key += `${item.name}:${item.how}:${item.direction}:${item.nulls},`;
    listKeys.set(order, key);
  }
  return key;
}

export function shapeKey(shape: ReadShape): string {
  let key = `${shape.count ? 'n' : '-'}${shape.stripNulls ? 's' : '-'}${shape.limit},${shape.offsetSlot};${selectKey(shape.select)};${orderKey(shape.order)};${foldedKey(shape.rules)};`;
  for (const item of shape.where) key += `${preparedKey(item)},`;
  return key;
}

function statementOf(compiled: { sql: string; parameters: readonly unknown[] }): Statement {
  return { sql: compiled.sql, params: compiled.parameters.map((p) => (p instanceof Slot ? { slot: p.index } : { constant: p })) };
}

export function bindValues(statement: Statement, values: Values): unknown[] {
  return statement.params.map((p) => ('slot' in p ? values[p.slot] : p.constant));
}

/** A stored value of one column to its JSON text, as JSON.stringify(decodeValue(…)); null for a decoded null. */
type Encoder = (stored: unknown) => string | null;

// Made once per plan: one switch on the column's type per column, not per value.
function encoderOf(column: ColumnModel): Encoder {
  switch (column.type) {
    case 'integer':
    case 'number':
      return (v) => (v === null || v === undefined ? null : JSON.stringify(Number(v)));
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : Number(v) === 1 ? 'true' : 'false');
    case 'json':
      return (v) => {
        const value = decodeValue(column, v);
        return value === null ? null : JSON.stringify(value);
      };
    default: // stored as the client gets it (decodeValue leaves it as is)
      return (v) => (v === null || v === undefined ? null : JSON.stringify(v));
  }
}

function serializer(select: readonly SelectItem[], columns: readonly ColumnModel[], stripNulls: boolean): Pick<ReadPlan, 'toJson' | 'decode'> {
  const decode = (rows: ReadonlyArray<ReadonlyArray<unknown>>) => rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < select.length; i++) {
      const value = decodeValue(columns[i]!, row[i]);
      if (!(stripNulls && value === null)) out[select[i]!.alias] = value;
    }
    return out;
  });
  // Two items under one alias make one key in an object (the last value, the first position):
  // such a select goes through objects, so the bytes stay exactly JSON.stringify's.
  if (new Set(select.map((s) => s.alias)).size !== select.length) return { decode, toJson: (rows) => JSON.stringify(decode(rows)) };
  const keys = select.map((s) => `${JSON.stringify(s.alias)}:`);
  const encoders = columns.map(encoderOf);
  const n = select.length;
  // Straight from the stored values to the response's text: no row objects, no decoded copies.
  const toJson = (rows: ReadonlyArray<ReadonlyArray<unknown>>): string => {
    let out = '[';
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      let obj = r === 0 ? '{' : ',{';
      let first = true;
      for (let i = 0; i < n; i++) {
        const text = encoders[i]!(row[i]);
        if (text === null) {
          if (stripNulls) continue;
          obj += (first ? '' : ',') + keys[i] + 'null';
        } else {
          obj += (first ? '' : ',') + keys[i] + text;
        }
        first = false;
      }
      out += obj + '}';
    }
    return out + ']';
  };
  return { decode, toJson };
}

// Column types whose stored value SQLite's json_object writes with the very bytes JSON.stringify
// gives the decoded value: text-like columns (json_quote escapes exactly as JSON.stringify does,
// checked over every code point in test/data/read-answers-byte-identical.test.ts), integers (safe
// integers, stored as INTEGER) and booleans (0/1, written as true/false below). Not `number` (SQLite prints a REAL with up to
// 17 significant digits, not JavaScript's shortest form) nor `json` (re-parsed and re-printed).
const JSON_ROW_TYPES: ReadonlySet<ColumnModel['type']> = new Set(['text', 'uuid', 'reference', 'timestamp', 'integer', 'boolean']);

/**
 * Whether the engine writes each row's JSON (capabilities.jsonRows): every selected column of a
 * type above, and the JavaScript serialiser's special cases absent (nulls stripped, an alias twice).
 */
function jsonRowsFit(ctx: PlanContext, shape: ReadShape): boolean {
  if (!ctx.capabilities.jsonRows || shape.stripNulls || shape.select.length === 0) return false;
  if (new Set(shape.select.map((s) => s.alias)).size !== shape.select.length) return false;
  return shape.columns.every((c) => JSON_ROW_TYPES.has(c.type));
}

// Each row as one JSON object text, written by SQLite: `json_object('alias', value, …)`. The
// response is then these texts joined, so no value becomes a JavaScript string of its own
// (a 50-row list: ~130 → ~90 µs in a loop, measured in issue 18). The aliases are bound
// parameters (constants of the plan), never SQL text.
function jsonRowSelection(eb: ExpressionBuilder<any, any>, resolver: ColumnResolver, shape: ReadShape, uid: unknown): RawBuilder<unknown> {
  const parts = shape.select.flatMap((item, i) => {
    const ref = maskedRef(eb, resolver, item.name, item.how, uid);
    // Stored 0/1 to true/false, as decodeValue (anything but 1 is false); json('true') is JSON, not text.
    const value = shape.columns[i]!.type === 'boolean'
      ? sql`case when ${ref} is null then null when ${ref} = 1 then json('true') else json('false') end`
      : ref;
    return [sql`${item.alias}`, value];
  });
  return sql`json_object(${sql.join(parts)})`;
}

/** The rows of a json-rows plan (one column: the row's JSON text) as the response's JSON array. */
function joinJsonRows(rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  let out = '[';
  for (let r = 0; r < rows.length; r++) out += (r === 0 ? '' : ',') + (rows[r]![0] as string);
  return out + ']';
}

function buildPlan(ctx: PlanContext, resolver: ColumnResolver, shape: ReadShape): ReadPlan {
  const jsonRows = jsonRowsFit(ctx, shape);
  const { decode, toJson } = jsonRows
    ? { decode: (rows: ReadonlyArray<ReadonlyArray<unknown>>) => rows.map((row) => JSON.parse(row[0] as string) as Record<string, unknown>), toJson: joinJsonRows }
    : serializer(shape.select, shape.columns, shape.stripNulls);
  const columns = [...new Set(shape.select.map((item) => item.alias))];
  const eb = expressionBuilder<any, any>();
  const bind = (slot: number) => new Slot(slot);
  const uid = bind(UID_SLOT);
  const conditions = buildConditions(eb, resolver, shape.where, bind, uid);
  const rule = buildFolded(eb, resolver, shape.rules, bind);
  // Reads the rules deny are empty, not errors (PostgREST under RLS): no oracle.
  if (isConstant(rule) && rule !== true) return { denied: true, rows: null, total: null, columns, toJson, decode };
  const where = toExpression(combinePredicates(eb, 'and', [rule, conditions]));
  const table = resolver.table.physical;
  let q = ctx.db.selectFrom(table)
    .select((e) => (jsonRows
      ? [jsonRowSelection(e, resolver, shape, uid).as('c0')]
      : shape.select.map((item, i) => (maskedRef(e, resolver, item.name, item.how, uid) as AliasableExpression<unknown>).as(`c${i}`))))
    .where(where);
  for (const item of shape.order) {
    q = q.orderBy(maskedRef(eb, resolver, item.name, item.how, uid), (ob) => {
      const dir = item.direction === 'asc' ? ob.asc() : ob.desc();
      return item.nulls === 'first' ? dir.nullsFirst() : dir.nullsLast();
    });
  }
  const rows = statementOf(q.limit(sql.lit(shape.limit)).offset(bind(shape.offsetSlot) as unknown as number).compile());
  const total = shape.count ? statementOf(ctx.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).where(where).compile()) : null;
  return { denied: false, rows, total, columns, toJson, decode };
}

/** The schema version of a table: its physical name and definition, hashed once per model. */
const versions = new WeakMap<TableModel, string>();
function versionOf(table: TableModel): string {
  let version = versions.get(table);
  if (version === undefined) {
    version = createHash('sha256').update(table.physical).update('\u0000').update(JSON.stringify(table.spec)).digest('base64url');
    versions.set(table, version);
  }
  return version;
}

export interface ReadPlans {
  /** The plan of this request's shape (made on first use) and the values to bind. */
  plan(ctx: PlanContext, input: ReadInput): { plan: ReadPlan; values: Values };
  readonly size: number;
}

/**
 * Plans by schema version and shape, least recently used dropped past `max`. A schema change
 * (columns, rules) is a new version, so no plan outlives the schema it was made for.
 */
export function createReadPlans(max = 2000): ReadPlans {
  const plans = new Map<string, ReadPlan>();
  return {
    plan(ctx, input) {
      const resolver = createResolver(input.table);
      const { shape, values } = readShape(ctx, resolver, input);
      const key = `${versionOf(input.table)}\n${shapeKey(shape)}`;
      let plan = plans.get(key);
      if (plan) {
        plans.delete(key);
      } else {
        plan = buildPlan(ctx, resolver, shape);
        if (plans.size >= max) plans.delete(plans.keys().next().value!);
      }
      plans.set(key, plan);
      return { plan, values };
    },
    get size() {
      return plans.size;
    },
  };
}

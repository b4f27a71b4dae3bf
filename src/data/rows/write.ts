import { randomUUID } from 'node:crypto';
import type { Expression, Kysely, SqlBool } from 'kysely';
import { ownRows, OWNER_COLUMN } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import { isoNow } from '../../shared/clock.js';
import type { ParsedQuery } from '../query/ast.js';
import type { AuthContext } from '../rules/context.js';
import { createResolver } from '../rules/resolver.js';
import type { TableModel } from '../schema/model.js';
import type { Stored } from '../schema/values.js';
import { decodeRow, type RowChange } from './changes.js';
import { builder, decodeRows, projection, selections, type Projection, type RowContext } from './context.js';
import { mapConstraintError } from './db-errors.js';
import { rowPredicate } from './read.js';
import { bodyObject, bodyRows, checkWritableColumns, encodeWrite } from './values.js';

// Writes under the rules, each in one transaction:
//   insert: the new rows must pass the insert AND select rules;
//   update: touches only rows passing update AND select (plus the URL's
//           filters), and the changed rows must pass them again;
//   delete: touches only rows passing delete AND select.
// A check that fails rolls the whole write back: a caller can never write a
// row it could not then see, nor move a row out of its own reach.
// With a change listener (realtime), each write also hands it the whole rows it
// wrote (and, for updates and deletes, the rows as they were), inside the same
// transaction; it hears of them only once the transaction has committed.

export interface WriteRequest {
  table: TableModel;
  auth: AuthContext;
  query: ParsedQuery;
  body: unknown;
  /** The projection to return (Prefer: return=representation), or null. */
  returning: ParsedQuery['select'] | null;
  stripNulls: boolean;
  /** At most this many affected rows, else roll back (2 for .single()), and what to throw then. */
  expectOne: boolean;
}

export interface WriteResult {
  rows: Array<Record<string, unknown>> | null;
  affected: number;
}

const CHUNK = 500;
const EMPTY: ParsedQuery = { select: [], where: [], order: [], limit: null, offset: null, columns: null };

/** `failedCheck`: the rows were written, then failed the rules (rolled back); else no rule lets this caller do it at all. */
function rlsDenied(table: TableModel, verb: string, failedCheck = false): GatehouseError {
  return new GatehouseError('data_rls_denied', {
    message: failedCheck
      ? `new row violates row-level security policy for table "${table.name}"`
      : `permission denied: no ${verb} rule of table "${table.name}" applies to this caller`,
    details: { table: table.name, operation: verb },
  });
}

/**
 * Bound parameters per statement at most: SQLite allows 32,766, PostgreSQL 65,535.
 * A wide table's rows are inserted in smaller chunks so both engines take the same request.
 */
const MAX_PARAMETERS = 30_000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function countPassing(trx: Kysely<any>, table: TableModel, ids: string[], where: Expression<SqlBool>): Promise<number> {
  let n = 0;
  for (const part of chunks(ids)) {
    const row = await trx.selectFrom(table.physical).select((e) => e.fn.countAll().as('n')).where('id', 'in', part).where(where).executeTakeFirst();
    n += Number(row?.n ?? 0);
  }
  return n;
}

/** References must point at rows the caller can see: a hidden row is as missing as an absent one. */
async function checkReferences(ctx: RowContext, trx: Kysely<any>, table: TableModel, auth: AuthContext, values: Array<Record<string, Stored>>): Promise<void> {
  for (const column of table.columns.values()) {
    if (!column.references) continue;
    const ids = [...new Set(values.map((v) => v[column.name]).filter((v): v is string => typeof v === 'string'))];
    if (ids.length === 0) continue;
    const target = ctx.tables.get(column.references);
    const visible = target ? rowPredicate(ctx, createResolver(target), auth, ['select'], EMPTY) : null;
    const found = target && visible?.allowed ? await countPassing(trx, target, ids, visible.where) : 0;
    if (found !== ids.length) {
      throw new GatehouseError('data_reference_violation', {
        message: `insert or update on table ${table.name} violates the reference ${column.name}: no such ${column.references} row`,
        details: { column: column.name },
      });
    }
  }
}

async function representation(trx: Kysely<any>, req: WriteRequest, ids: string[]): Promise<Array<Record<string, unknown>>> {
  const resolver = createResolver(req.table);
  const p: Projection = projection(resolver, req.auth, req.returning!);
  const byId = new Map<string, Record<string, unknown>>();
  for (const part of chunks(ids)) {
    const rows = await trx.selectFrom(req.table.physical).select((e) => [...selections(p, resolver, req.auth, e), e.ref('id').as('__id')]).where('id', 'in', part).execute();
    const decoded = decodeRows(p, rows, req.stripNulls);
    rows.forEach((row, i) => byId.set(String(row.__id), decoded[i]!));
  }
  return ids.map((id) => byId.get(id)).filter((r): r is Record<string, unknown> => r !== undefined);
}

function assertSingle(req: WriteRequest, n: number): void {
  if (req.expectOne && n !== 1) {
    throw new GatehouseError('data_single_row_expected', { details: `The result contains ${n} rows` });
  }
}

interface Written {
  result: WriteResult;
  /** Empty when nobody listens (ctx.changes is null). */
  changes: RowChange[];
}

async function inTransaction(ctx: RowContext, table: TableModel, fn: (trx: Kysely<any>) => Promise<Written>): Promise<WriteResult> {
  let afterCommit: (() => void) | null = null;
  let result: WriteResult;
  try {
    result = await ctx.db.transaction().execute(async (trx) => {
      const written = await fn(trx);
      if (ctx.changes && written.changes.length > 0) {
        afterCommit = await ctx.changes.capture(trx, { projectId: ctx.projectId, environment: ctx.environment, table, changes: written.changes });
      }
      return written.result;
    });
  } catch (error) {
    throw mapConstraintError(error, table.name);
  }
  (afterCommit as (() => void) | null)?.();
  return result;
}

/**
 * The rows a write is about to change, whole, for the listener. Where writers run concurrently
 * they are locked, so the write changes exactly the versions read here.
 */
async function rowsBefore(ctx: RowContext, trx: Kysely<any>, table: TableModel, where: Expression<SqlBool>): Promise<Array<Record<string, unknown>>> {
  const q = trx.selectFrom(table.physical).selectAll().where(where);
  return ctx.capabilities.concurrentWriters ? q.forUpdate().execute() : q.execute();
}

export async function insertRows(ctx: RowContext, req: WriteRequest): Promise<WriteResult> {
  const { table, auth } = req;
  const rows = bodyRows(req.body, ctx.limits.maxPageSize);
  const named = req.query.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  checkWritableColumns(table, auth, named);
  if (req.returning) projection(createResolver(table), auth, req.returning);
  const now = isoNow(ctx.clock);
  const values = rows.map((row) => {
    const out: Record<string, Stored> = { id: randomUUID(), [OWNER_COLUMN]: auth.uid, created_at: now, updated_at: now };
    for (const column of table.columns.values()) {
      if (column.system) continue;
      const given = named.includes(column.name) && row[column.name] !== undefined;
      out[column.name] = encodeWrite(table, column, given ? row[column.name] : column.default);
    }
    return out;
  });
  const check = rowPredicate(ctx, createResolver(table), auth, ['insert', 'select'], EMPTY);
  if (!check.allowed) throw rlsDenied(table, 'insert');
  if (values.length === 0) return { rows: req.returning ? [] : null, affected: 0 };
  const ids = values.map((v) => v.id as string);
  return inTransaction(ctx, table, async (trx) => {
    // References first: a missing and a hidden row must fail the same way (the database's own check would tell them apart).
    await checkReferences(ctx, trx, table, auth, values);
    const perRow = Math.max(1, Object.keys(values[0]!).length);
    for (const part of chunks(values, Math.min(CHUNK, Math.floor(MAX_PARAMETERS / perRow)))) await trx.insertInto(table.physical).values(part).execute();
    if ((await countPassing(trx, table, ids, check.where)) !== ids.length) throw rlsDenied(table, 'insert', true);
    assertSingle(req, ids.length);
    const changes: RowChange[] = ctx.changes ? values.map((v) => ({ type: 'INSERT', record: decodeRow(table, v), old: null })) : [];
    return { result: { rows: req.returning ? await representation(trx, req, ids) : null, affected: ids.length }, changes };
  });
}

export async function updateRows(ctx: RowContext, req: WriteRequest): Promise<WriteResult> {
  const { table, auth } = req;
  const body = bodyObject(req.body);
  const { selfOnly } = checkWritableColumns(table, auth, Object.keys(body));
  if (req.returning) projection(createResolver(table), auth, req.returning);
  const set: Record<string, Stored> = {};
  for (const [name, value] of Object.entries(body)) set[name] = encodeWrite(table, table.columns.get(name)!, value);
  set.updated_at = isoNow(ctx.clock);
  const resolver = createResolver(table);
  const target = rowPredicate(ctx, resolver, auth, ['update', 'select'], req.query);
  const check = rowPredicate(ctx, resolver, auth, ['update', 'select'], EMPTY);
  if (!target.allowed) throw rlsDenied(table, 'update');
  const eb = builder();
  // A column writable only by `self` narrows the update to the caller's own rows.
  const where = selfOnly ? eb.and([target.where, ownRows(eb, eb.ref(OWNER_COLUMN), auth.uid!)]) : target.where;
  return inTransaction(ctx, table, async (trx) => {
    await checkReferences(ctx, trx, table, auth, [set]);
    const before = ctx.changes ? new Map((await rowsBefore(ctx, trx, table, where)).map((r) => [String(r.id), r])) : null;
    const update = trx.updateTable(table.physical).set(set).where(where);
    const updated = await (before ? update.returningAll() : update.returning('id')).execute();
    const ids = updated.map((r) => String(r.id));
    if (ids.length > 0 && (await countPassing(trx, table, ids, check.where)) !== ids.length) throw rlsDenied(table, 'update', true);
    assertSingle(req, ids.length);
    // A row missing from `before` (a concurrent insert matching the filter between the two
    // statements, PostgreSQL only) goes out without its old values: listeners treat it as unseen before.
    const changes: RowChange[] = before
      ? updated.map((r) => {
        const old = before.get(String(r.id));
        return { type: 'UPDATE', record: decodeRow(table, r), old: old ? decodeRow(table, old) : null };
      })
      : [];
    return { result: { rows: req.returning ? await representation(trx, req, ids) : null, affected: ids.length }, changes };
  });
}

export async function deleteRows(ctx: RowContext, req: WriteRequest): Promise<WriteResult> {
  const { table, auth } = req;
  const target = rowPredicate(ctx, createResolver(table), auth, ['delete', 'select'], req.query);
  if (req.returning) projection(createResolver(table), auth, req.returning);
  if (!target.allowed) throw rlsDenied(table, 'delete');
  return inTransaction(ctx, table, async (trx) => {
    const deletedChanges = (rows: Array<Record<string, unknown>>): RowChange[] =>
      (ctx.changes ? rows.map((r) => ({ type: 'DELETE', record: null, old: decodeRow(table, r) })) : []);
    if (!req.returning && !req.expectOne) {
      const remove = trx.deleteFrom(table.physical).where(target.where);
      const deleted = await (ctx.changes ? remove.returningAll() : remove.returning('id')).execute();
      return { result: { rows: null, affected: deleted.length }, changes: deletedChanges(deleted) };
    }
    const doomed = ctx.changes ? await rowsBefore(ctx, trx, table, target.where) : await trx.selectFrom(table.physical).select('id').where(target.where).execute();
    const ids = doomed.map((r) => String(r.id));
    assertSingle(req, ids.length);
    const rows = req.returning ? await representation(trx, req, ids) : null;
    for (const part of chunks(ids)) await trx.deleteFrom(table.physical).where('id', 'in', part).execute();
    return { result: { rows, affected: ids.length }, changes: deletedChanges(doomed) };
  });
}

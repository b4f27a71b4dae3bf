import type { Kysely } from 'kysely';
import type { Storage } from '../db/index.js';
import { GatehouseError } from '../errors/index.js';
import type { Caller } from '../access/index.js';
import type { Clock } from '../shared/clock.js';
import { isIdentifier } from './names.js';
import { mapConstraintError } from './rows/db-errors.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './query/ast.js';
import { parseQuery } from './query/parse.js';
import { readRows, type ReadResult } from './rows/read.js';
import { authContextOf } from './rules/context.js';
import type { RowContext } from './rows/context.js';
import { createReadPlans, type ReadPlans } from './rows/read-plan.js';
import type { RowChangeSink } from './rows/changes.js';
import { createSchemaService, SchemaChangeRefused, SchemaInvalid, type ApplyOptions, type ApplyResult, type SchemaService } from './schema/service.js';
import type { TableModel } from './schema/model.js';

export interface DataService {
  schema: SchemaService;
  limits: QueryLimits;
  /** The read plans made so far (rows/read-plan.ts): shared by every request of one shape. */
  readPlans: Pick<ReadPlans, 'size'>;
  /** The caller's table and what rows run on; 404 PGRST205 if the environment has no such table. */
  open(caller: Caller, table: string): Promise<{ table: TableModel; ctx: RowContext; auth: ReturnType<typeof authContextOf> }>;
  /**
   * A read of `table` by `caller`, the query in PostgREST's URL form (select, filters, order,
   * limit, offset): the one read path of GET /rest/v1/<table> and of the admin API's "view as".
   */
  read(caller: Caller, table: string, urlQuery: Record<string, unknown>, options?: ReadOptions): Promise<ReadResult>;
  /** schema.apply with its refusals as client errors (400/409). */
  applySchema(projectId: string, environment: string, input: unknown, options?: ApplyOptions): Promise<ApplyResult>;
}

export interface ReadOptions {
  count?: boolean;
  /** At most this many rows are needed (2 for .single()). */
  cap?: number | null;
  /** The Range header's window, if any. */
  range?: { offset: number; limit: number | null } | null;
  stripNulls?: boolean;
}

export interface DataServiceOptions {
  storage: Storage;
  clock: Clock;
  limits?: Partial<QueryLimits>;
  schemaCacheTtlMs?: number;
  /** Told of every committed row change (realtime). */
  changes?: RowChangeSink;
}

export function unknownTable(name: string): GatehouseError {
  return new GatehouseError('data_table_unknown', {
    message: `Could not find the table '${name.slice(0, 60)}' in the schema cache`,
    details: { table: name.slice(0, 60) },
  });
}

export function createDataService({ storage, clock, limits, schemaCacheTtlMs, changes }: DataServiceOptions): DataService {
  const schema = createSchemaService({ db: storage.db, clock, cacheTtlMs: schemaCacheTtlMs, byteOrderCollation: storage.capabilities.byteOrderCollation });
  const merged: QueryLimits = { ...DEFAULT_QUERY_LIMITS, ...limits };
  const plans = createReadPlans();
  const db = storage.db as unknown as Kysely<any>;
  // Planned SQL runs under Kysely's connection discipline (on SQLite its lock keeps a read from
  // running on the one connection in the middle of another request's write transaction, which it
  // would see uncommitted), and gives its rows as arrays: the plan knows the columns' order.
  const select = (text: string, parameters: readonly unknown[]) => storage.selectArrays(text, parameters);
  const selectNow = storage.selectArraysNow ? storage.selectArraysNow.bind(storage) : () => null;
  // One context per environment's tables (the schema cache's map, new with each schema version).
  const contexts = new WeakMap<ReadonlyMap<string, TableModel>, RowContext>();
  // The schema cache holds a promise per environment; once it has settled, its tables are taken
  // from here without awaiting it again (a read on SQLite then runs without a promise turn).
  const settled = new WeakMap<Promise<ReadonlyMap<string, TableModel>>, ReadonlyMap<string, TableModel>>();
  function tablesOf(caller: Caller): ReadonlyMap<string, TableModel> | Promise<ReadonlyMap<string, TableModel>> {
    const pending = schema.tables(caller.projectId, caller.environment);
    return settled.get(pending) ?? pending.then((tables) => {
      settled.set(pending, tables);
      return tables;
    });
  }
  function opened(caller: Caller, name: string, tables: ReadonlyMap<string, TableModel>) {
    const table = tables.get(name);
    if (!table) throw unknownTable(name);
    let ctx = contexts.get(tables);
    if (ctx === undefined || ctx.projectId !== caller.projectId || ctx.environment !== caller.environment) {
      ctx = {
        db, capabilities: storage.capabilities, limits: merged, clock, tables, plans, select, selectNow,
        projectId: caller.projectId, environment: caller.environment, changes: changes ?? null,
      };
      contexts.set(tables, ctx);
    }
    return { table, ctx, auth: authContextOf(caller) };
  }
  async function open(caller: Caller, name: string) {
    if (!isIdentifier(name)) throw unknownTable(name);
    return opened(caller, name, await tablesOf(caller));
  }
  return {
    schema,
    limits: merged,
    readPlans: plans,
    open,
    async read(caller, name, urlQuery, options = {}) {
      if (!isIdentifier(name)) throw unknownTable(name);
      const tables = tablesOf(caller);
      const { table, ctx, auth } = opened(caller, name, tables instanceof Promise ? await tables : tables);
      const query = parseQuery(urlQuery, ctx.limits);
      if (query.columns) throw new GatehouseError('data_query_invalid', { message: 'columns is only for inserts' });
      return readRows(ctx, {
        table, auth, query, count: options.count ?? false, cap: options.cap ?? null, range: options.range ?? null, stripNulls: options.stripNulls ?? false,
      });
    },
    async applySchema(projectId, environment, input, options) {
      try {
        return await schema.apply(projectId, environment, input, options);
      } catch (error) {
        if (error instanceof SchemaInvalid) throw new GatehouseError('schema_invalid', { message: error.message, details: { problems: error.problems } });
        if (error instanceof SchemaChangeRefused) {
          throw new GatehouseError('schema_change_refused', { message: error.message, details: { problems: error.plan.problems, destructive: error.plan.destructive } });
        }
        // e.g. a new unique index over duplicate values: 409, the transaction rolled back.
        const mapped = mapConstraintError(error, 'schema');
        if (mapped instanceof GatehouseError) {
          throw new GatehouseError('schema_change_refused', { message: 'the change conflicts with existing rows (duplicate values for a new unique column, or a missing referenced row)', cause: error });
        }
        throw error;
      }
    },
  };
}

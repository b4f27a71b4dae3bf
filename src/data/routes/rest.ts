import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors/index.js';
import type { Caller } from '../../access/index.js';
import type { DataMetrics, RowOperation, SecurityEvents } from '../../observability/index.js';
import { parseQuery } from '../query/parse.js';
import { deleteRows, insertRows, updateRows, type WriteRequest, type WriteResult } from '../rows/write.js';
import { tableScope } from '../names.js';
import type { DataService } from '../service.js';
import { contentRange, parseAccept, parsePrefer, parseRange } from './wire.js';

// /rest/v1/<table> in PostgREST's wire format, so supabase.from(…) works.
// Handlers only translate HTTP ↔ rows/: the key's scope was checked by the
// authorization stage (the route's `scope`), then the table is looked up in
// the caller's own project environment.

export interface DataRoutesOptions {
  data: DataService;
  /** Rows read and written (gatehouse_data_rows_total). */
  metrics: DataMetrics;
}

const Params = Type.Object({ table: Type.String({ minLength: 1, maxLength: 128 }) });
type Req = FastifyRequest<{ Params: { table: string }; Querystring: Record<string, unknown> }>;

function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new GatehouseError('missing_api_key');
  return request.caller;
}

function singleRowError(n: number): GatehouseError {
  return new GatehouseError('data_single_row_expected', { details: `The result contains ${n} rows` });
}

/**
 * The scope a table's reads or writes need. Checked before anything about the table (in
 * onRequest, before the schema ran: any name may come), so a narrowed key learns nothing of
 * other tables; a name no table can have asks for `data:_:…`, which only a wildcard holds.
 */
function tableScopeOf(access: 'read' | 'write') {
  return (request: FastifyRequest): string => {
    const table = (request.params as { table?: unknown }).table;
    return tableScope(typeof table === 'string' && /^[a-z0-9_]{1,64}$/.test(table) ? table : '_', access);
  };
}

/** onError of the /rest surface: denied writes and forbidden columns are what probing looks like, worth an operator's eye. */
export function recordDataDenials(events: SecurityEvents) {
  return async function onDataError(request: FastifyRequest, _reply: FastifyReply, error: Error): Promise<void> {
    if (!(error instanceof GatehouseError) || (error.code !== 'data_rls_denied' && error.code !== 'data_column_forbidden')) return;
    const caller = request.caller;
    events.record('resource_access_denied', {
      projectId: caller?.projectId, environment: caller?.environment, ip: request.ip, requestId: request.id,
      details: { surface: 'rest', reason: error.code, method: request.method, ...(error.details as Record<string, unknown>), user_id: caller?.user?.id ?? null },
    });
  };
}

export async function dataRoutes(app: FastifyInstance, { data, metrics }: DataRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['data'];

  async function open(request: Req) {
    return data.open(callerOf(request), request.params.table);
  }

  r.get('/:table', {
    config: { auth: 'key', routeClass: 'data_read', scope: tableScopeOf('read') },
    schema: { tags, summary: 'Read rows (PostgREST: select, filters, or, order, limit, offset, Range, Prefer: count=exact)', params: Params },
  }, async (request: Req, reply: FastifyReply) => {
    const prefs = parsePrefer(request);
    const accept = parseAccept(request);
    const result = await data.read(callerOf(request), request.params.table, request.query, {
      count: prefs.count, cap: accept.single ? 2 : null,
      range: parseRange(request, data.limits.maxPageSize, data.limits.maxOffset), stripNulls: accept.stripNulls,
    });
    metrics.rows('read', result.rows.length);
    reply.header('Content-Range', contentRange(result.offset, result.rows.length, result.total));
    if (accept.single) {
      if (result.rows.length !== 1) throw singleRowError(result.rows.length);
      return reply.type('application/vnd.pgrst.object+json; charset=utf-8').send(result.objects()[0]);
    }
    // Already JSON (the same bytes JSON.stringify gives the rows as objects): sent as is.
    return reply.type('application/json; charset=utf-8').send(result.json());
  });

  async function write(request: Req, reply: FastifyReply, run: (ctx: any, req: WriteRequest) => Promise<WriteResult>, okStatus: number, operation: RowOperation) {
    const { table, ctx, auth } = await open(request);
    const query = parseQuery(request.query, ctx.limits);
    if (query.limit !== null || query.offset !== null || query.order.length > 0) {
      throw new GatehouseError('data_query_invalid', { message: 'limit, offset and order are not supported on writes' });
    }
    if (request.method !== 'POST' && query.columns) throw new GatehouseError('data_query_invalid', { message: 'columns is only for inserts' });
    const prefs = parsePrefer(request);
    const accept = parseAccept(request);
    const result = await run(ctx, {
      table, auth, query, body: request.body,
      returning: prefs.returnRepresentation ? query.select : null,
      stripNulls: accept.stripNulls, expectOne: accept.single,
    });
    metrics.rows(operation, result.affected);
    if (prefs.count) reply.header('Content-Range', contentRange(0, result.affected, result.affected));
    if (!prefs.returnRepresentation) return reply.code(okStatus === 201 ? 201 : 204).send();
    const rows = result.rows ?? [];
    if (accept.single) return reply.code(okStatus).type('application/vnd.pgrst.object+json; charset=utf-8').send(rows[0]);
    return reply.code(okStatus).type('application/json; charset=utf-8').send(rows);
  }

  const writeConfig = { auth: 'key', routeClass: 'data_write', scope: tableScopeOf('write') } as const;
  r.post('/:table', { config: writeConfig, schema: { tags, summary: 'Insert one row or an array of rows', params: Params } },
    (request: Req, reply) => write(request, reply, insertRows, 201, 'inserted'));
  r.patch('/:table', { config: writeConfig, schema: { tags, summary: 'Update the rows the filters and the rules select', params: Params } },
    (request: Req, reply) => write(request, reply, updateRows, 200, 'updated'));
  r.delete('/:table', { config: writeConfig, schema: { tags, summary: 'Delete the rows the filters and the rules select', params: Params } },
    (request: Req, reply) => write(request, reply, deleteRows, 200, 'deleted'));
}

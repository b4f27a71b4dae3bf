import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { describeStep, testPolicy, type ApplyResult } from '../data/index.js';
import { GatehouseError } from '../errors/index.js';
import type { AdminContext } from './context.js';
import { actorOf, callerOf } from './context.js';

// Tables and policies of the Data API, for the caller's own project
// environment. A schema is applied whole (like `gatehouse schema apply`), or
// one table at a time; both go through the same planner.

export function planJson(result: ApplyResult) {
  return {
    applied: result.applied,
    steps: result.steps.map((s) => ({ kind: s.kind, table: s.table, ...('column' in s ? { column: s.column } : {}), description: describeStep(s) })),
    destructive: result.destructive.length > 0,
    problems: result.problems,
  };
}

const SchemaBody = Type.Object({
  schema: Type.Unknown({ description: 'A schema document: { "tables": { "<name>": { "columns": {…}, "rules": {…} } } } (docs/data-api.md)' }),
  allow_data_loss: Type.Optional(Type.Boolean({ description: 'Confirm dropping tables or columns and changing column types' })),
  dry_run: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const TableParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,47}$' }) });

export async function tableRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:tables', routeClass: 'admin' } as const;
  const tags = ['admin: tables'];

  async function apply(request: Parameters<typeof actorOf>[0], schema: unknown, allowDataLoss: boolean, dryRun: boolean) {
    const caller = callerOf(request);
    const result = await deps.data.applySchema(caller.projectId, caller.environment, schema, { allowDataLoss, dryRun });
    if (result.applied) {
      await deps.audit.write({
        projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'data.schema.apply',
        details: { steps: result.steps.map(describeStep), allow_data_loss: allowDataLoss },
      });
    }
    return planJson(result);
  }

  r.get('/schema', { config, schema: { tags, summary: 'The schema of this project environment, as a schema document' } }, async (request) => {
    const caller = callerOf(request);
    return { schema: await deps.data.schema.document(caller.projectId, caller.environment) };
  });

  r.put('/schema', { config, schema: { tags, summary: 'Apply a whole schema document (tables not in it are dropped with allow_data_loss)', body: SchemaBody } },
    async (request) => apply(request, request.body.schema, request.body.allow_data_loss ?? false, request.body.dry_run ?? false));

  r.post('/schema/plan', { config, schema: { tags, summary: 'The plan for a schema document, without applying it', body: SchemaBody } },
    async (request) => apply(request, request.body.schema, request.body.allow_data_loss ?? false, true));

  r.get('/tables', { config, schema: { tags, summary: 'List the tables of this project environment' } }, async (request) => {
    const caller = callerOf(request);
    const doc = await deps.data.schema.document(caller.projectId, caller.environment);
    return { tables: Object.entries(doc.tables).map(([name, spec]) => ({ name, ...spec })) };
  });

  r.put('/tables/:name', {
    config,
    schema: {
      tags, summary: 'Create or change one table', params: TableParams,
      querystring: Type.Object({ allow_data_loss: Type.Optional(Type.Boolean()), dry_run: Type.Optional(Type.Boolean()) }),
      body: Type.Unknown(),
    },
  }, async (request) => {
    const caller = callerOf(request);
    const doc = await deps.data.schema.document(caller.projectId, caller.environment);
    const schema = { tables: { ...doc.tables, [request.params.name]: request.body } };
    return apply(request, schema, request.query.allow_data_loss ?? false, request.query.dry_run ?? false);
  });

  r.delete('/tables/:name', {
    config,
    schema: { tags, summary: 'Drop a table and its rows (needs allow_data_loss=true)', params: TableParams, querystring: Type.Object({ allow_data_loss: Type.Optional(Type.Boolean()), dry_run: Type.Optional(Type.Boolean()) }) },
  }, async (request) => {
    const caller = callerOf(request);
    const doc = await deps.data.schema.document(caller.projectId, caller.environment);
    if (!doc.tables[request.params.name]) throw new GatehouseError('not_found', { message: `No table ${request.params.name}.` });
    const { [request.params.name]: _dropped, ...rest } = doc.tables;
    return apply(request, { tables: rest }, request.query.allow_data_loss ?? false, request.query.dry_run ?? false);
  });

  r.post('/policies/test', {
    config: { ...config, scope: 'admin:policies' },
    schema: {
      tags, summary: 'Would this caller be allowed? Answers allow/deny and the rule that decided',
      body: Type.Object({
        table: Type.String({ pattern: '^[a-z][a-z0-9_]{0,47}$' }),
        operation: Type.Union([Type.Literal('select'), Type.Literal('insert'), Type.Literal('update'), Type.Literal('delete')]),
        caller: Type.Object({
          group: Type.Union([Type.Literal('guest'), Type.Literal('user'), Type.Literal('admin')]),
          user_id: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
          role: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
          claims: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }, { additionalProperties: false }),
        row: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const caller = callerOf(request);
    const tables = await deps.data.schema.tables(caller.projectId, caller.environment);
    const table = tables.get(request.body.table);
    if (!table) throw new GatehouseError('not_found', { message: `No table ${request.body.table}.` });
    return testPolicy(table, { operation: request.body.operation, caller: request.body.caller, row: request.body.row ?? null });
  });
}

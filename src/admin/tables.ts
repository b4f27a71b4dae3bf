import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { describeStep, type ApplyResult } from '../data/index.js';
import { actingOf, type AdminContext } from './context.js';

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

export async function tableRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:tables', routeClass: 'admin' } as const;
  const tags = ['admin: tables'];

  const { schema } = operations;

  r.get('/schema', { config, schema: { tags, summary: 'The schema of this project environment, as a schema document' } }, async (request) => ({ schema: await schema.document(actingOf(request)) }));

  r.put('/schema', { config, schema: { tags, summary: 'Apply a whole schema document (tables not in it are dropped with allow_data_loss)', body: SchemaBody } },
    async (request) => planJson(await schema.apply(actingOf(request), request.body.schema, { allowDataLoss: request.body.allow_data_loss, dryRun: request.body.dry_run })));

  r.post('/schema/plan', { config, schema: { tags, summary: 'The plan for a schema document, without applying it', body: SchemaBody } },
    async (request) => planJson(await schema.apply(actingOf(request), request.body.schema, { allowDataLoss: request.body.allow_data_loss, dryRun: true })));

  r.get('/tables', { config, schema: { tags, summary: 'List the tables of this project environment' } }, async (request) => ({ tables: await schema.tables(actingOf(request)) }));

  r.put('/tables/:name', {
    config,
    schema: {
      tags, summary: 'Create or change one table', params: TableParams,
      querystring: Type.Object({ allow_data_loss: Type.Optional(Type.Boolean()), dry_run: Type.Optional(Type.Boolean()) }),
      body: Type.Unknown(),
    },
  }, async (request) => planJson(await schema.putTable(actingOf(request), request.params.name, request.body, { allowDataLoss: request.query.allow_data_loss, dryRun: request.query.dry_run })));

  r.delete('/tables/:name', {
    config,
    schema: { tags, summary: 'Drop a table and its rows (needs allow_data_loss=true)', params: TableParams, querystring: Type.Object({ allow_data_loss: Type.Optional(Type.Boolean()), dry_run: Type.Optional(Type.Boolean()) }) },
  }, async (request) => planJson(await schema.dropTable(actingOf(request), request.params.name, { allowDataLoss: request.query.allow_data_loss, dryRun: request.query.dry_run })));

  r.post('/tables/:name/rows/view-as', {
    // A read: a viewer may preview as a user or a guest (the act refuses it the admin view).
    config: { ...config, readOnly: true },
    schema: {
      tags, summary: 'The rows the Data API gives a user, a guest or an admin: its own read path with that caller', params: TableParams,
      body: Type.Object({
        as: Type.Union([
          Type.Object({ kind: Type.Literal('user'), userId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
          Type.Object({ kind: Type.Literal('guest') }, { additionalProperties: false }),
          Type.Object({ kind: Type.Literal('admin') }, { additionalProperties: false }),
        ]),
        select: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
        filter: Type.Optional(Type.Union([
          Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 2000 }), { maxProperties: 50 }),
          Type.String({ maxLength: 4000, description: 'Or as in a query string: done=eq.false&or=(…)' }),
        ])),
        order: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      }, { additionalProperties: false }),
    },
  }, async (request) => operations.rows.viewAs(actingOf(request), request.params.name, request.body));

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
    const { table, operation, caller, row } = request.body;
    return schema.testPolicy(actingOf(request), table, { operation, caller, row: row ?? null });
  });
}

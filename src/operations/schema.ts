import { describeStep, testPolicy, type ApplyResult, type PolicyTestInput } from '../data/index.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

export interface ApplyOptions {
  /** Confirms dropping tables or columns and changing column types. */
  allowDataLoss?: boolean | undefined;
  dryRun?: boolean | undefined;
}

const GROUPS: readonly string[] = ['guest', 'user', 'admin'];

/**
 * Tables and rules of the Data API. A schema is applied whole, or one table at a time; both go
 * through the same planner, and an applied change is audited with its steps.
 */
export function schemaOperations(deps: Pick<OperationsDeps, 'data'>, audit: Audit) {
  const { data } = deps;

  async function apply(ctx: ActionContext, schema: unknown, options: ApplyOptions): Promise<ApplyResult> {
    const allowDataLoss = options.allowDataLoss ?? false;
    const result = await data.applySchema(ctx.projectId, ctx.environment, schema, { allowDataLoss, dryRun: options.dryRun ?? false });
    if (result.applied) {
      await audit(ctx, { action: 'data.schema.apply', details: { steps: result.steps.map(describeStep), allow_data_loss: allowDataLoss } });
    }
    return result;
  }

  function document(ctx: ActionContext) {
    return data.schema.document(ctx.projectId, ctx.environment);
  }

  return {
    document,
    apply,

    async tables(ctx: ActionContext) {
      const doc = await document(ctx);
      return Object.entries(doc.tables).map(([name, spec]) => ({ name, ...spec }));
    },

    /** Creates or changes one table, leaving the others as they are. */
    async putTable(ctx: ActionContext, name: string, spec: unknown, options: ApplyOptions) {
      const doc = await document(ctx);
      return apply(ctx, { tables: { ...doc.tables, [name]: spec } }, options);
    },

    /** Drops a table and its rows (a data loss: needs allowDataLoss to apply). */
    async dropTable(ctx: ActionContext, name: string, options: ApplyOptions) {
      const doc = await document(ctx);
      if (!doc.tables[name]) throw notFound(`No table ${name}.`);
      const { [name]: _dropped, ...rest } = doc.tables;
      return apply(ctx, { tables: rest }, options);
    },

    /** Would this caller be allowed? Answers allow/deny and the rule that decided. */
    async testPolicy(ctx: ActionContext, table: string, input: PolicyTestInput) {
      if (!GROUPS.includes(input.caller.group)) throw invalid('caller/group', 'must be guest, user or admin');
      const model = (await data.schema.tables(ctx.projectId, ctx.environment)).get(table);
      if (!model) throw notFound(`No table ${table}.`);
      return testPolicy(model, input);
    },
  };
}

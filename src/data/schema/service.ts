import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import { physicalTableName } from '../names.js';
import { runStep } from './migrate.js';
import { buildTableModel, type TableModel } from './model.js';
import { planSchema, type Plan } from './plan.js';
import type { SchemaDocument, TableSpec } from './types.js';
import { SchemaInvalid, validateSchema } from './validate.js';

export interface ApplyOptions {
  /** Drop tables/columns and change types, losing their data. */
  allowDataLoss?: boolean;
  dryRun?: boolean;
}

export interface ApplyResult extends Plan {
  applied: boolean;
}

export class SchemaChangeRefused extends Error {
  constructor(readonly plan: Plan, readonly reason: 'data_loss' | 'impossible') {
    super(reason === 'data_loss'
      ? `the change would lose data (${plan.destructive.length} step(s)); pass allow_data_loss to confirm`
      : `the change cannot be made: ${plan.problems.join('; ')}`);
    this.name = 'SchemaChangeRefused';
  }
}

export interface SchemaService {
  /** The compiled tables of a project environment (cached for cacheTtlMs). */
  tables(projectId: string, environment: string): Promise<ReadonlyMap<string, TableModel>>;
  /** The current schema as a document (what `schema apply` would need to keep it as is). */
  document(projectId: string, environment: string): Promise<SchemaDocument>;
  /** Makes the environment's schema equal to `input` (a whole schema document). */
  apply(projectId: string, environment: string, input: unknown, options?: ApplyOptions): Promise<ApplyResult>;
}

export interface SchemaServiceOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** See EngineCapabilities.byteOrderCollation: text columns are created with it. */
  byteOrderCollation?: string;
  /** Milliseconds another instance may serve a schema older than its last change. */
  cacheTtlMs?: number;
}

export function createSchemaService({ db, clock, byteOrderCollation, cacheTtlMs = 1000 }: SchemaServiceOptions): SchemaService {
  const cache = createTtlCache<Promise<ReadonlyMap<string, TableModel>>>({ ttlMs: cacheTtlMs, clock });
  // Applies of one process run one at a time: two plans made from the same
  // starting point must not both run.
  let queue: Promise<unknown> = Promise.resolve();

  async function load(projectId: string, environment: string): Promise<Map<string, { physical: string; spec: TableSpec; createdAt: string }>> {
    const rows = await db.selectFrom('data_tables').select(['name', 'physical_name', 'definition', 'created_at'])
      .where('project_id', '=', projectId).where('environment', '=', environment).orderBy('name').execute();
    return new Map(rows.map((r) => [r.name, { physical: r.physical_name, spec: JSON.parse(r.definition) as TableSpec, createdAt: r.created_at }]));
  }

  const service: SchemaService = {
    tables(projectId, environment) {
      return cache.getOrLoad(`${projectId}/${environment}`, () => load(projectId, environment).then((rows) => {
        const models = new Map<string, TableModel>();
        for (const [name, row] of rows) models.set(name, buildTableModel(name, row.physical, row.spec));
        return models as ReadonlyMap<string, TableModel>;
      }));
    },

    async document(projectId, environment) {
      const rows = await load(projectId, environment);
      return { tables: Object.fromEntries([...rows].map(([name, row]) => [name, row.spec])) };
    },

    apply(projectId, environment, input, options = {}) {
      const run = queue.then(async (): Promise<ApplyResult> => {
        const desired = validateSchema(input);
        const existing = await load(projectId, environment);
        const current = new Map([...existing].map(([name, row]) => [name, row.spec]));
        const plan = planSchema(projectId, environment, current, desired);
        if (options.dryRun) return { ...plan, applied: false };
        if (plan.problems.length > 0) throw new SchemaChangeRefused(plan, 'impossible');
        if (plan.destructive.length > 0 && !options.allowDataLoss) throw new SchemaChangeRefused(plan, 'data_loss');
        if (plan.steps.length === 0) return { ...plan, applied: false };
        const now = isoNow(clock);
        // DDL and metadata in one transaction: both engines have transactional DDL.
        await db.transaction().execute(async (trx) => {
          const ctx = { db: trx as unknown as Kysely<any>, projectId, environment, desired, byteOrderCollation };
          for (const step of plan.steps) await runStep(ctx, step);
          const scope = (q: any) => q.where('project_id', '=', projectId).where('environment', '=', environment);
          await scope(trx.deleteFrom('data_tables')).execute();
          for (const [name, spec] of Object.entries(desired.tables)) {
            await trx.insertInto('data_tables').values({
              project_id: projectId, environment, name, physical_name: physicalTableName(projectId, environment, name),
              definition: JSON.stringify(spec), created_at: existing.get(name)?.createdAt ?? now, updated_at: now,
            }).execute();
          }
        });
        cache.delete(`${projectId}/${environment}`);
        return { ...plan, applied: true };
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
  return service;
}

export { SchemaInvalid };

import { createHash } from 'node:crypto';
import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import { physicalTableName } from '../names.js';
import type { PlanStep } from './plan.js';
import type { ColumnSpec, ColumnType, SchemaDocument } from './types.js';
import { encodeValue } from './values.js';

// Runs a plan with Kysely's schema builder, so the same steps serve SQLite and
// PostgreSQL. Constraints the API enforces itself (required, max_length,
// defaults) are not DDL: SQLite cannot alter them in place, and the API is the
// only writer. Unique and foreign keys are DDL, because only the database can
// enforce them under concurrent writes. Unique constraints are indexes, since
// SQLite can drop an index but not a column constraint.

const PHYSICAL_TYPES: Record<ColumnType, string> = {
  text: 'text', uuid: 'text', reference: 'text', timestamp: 'text', json: 'text',
  integer: 'bigint', number: 'double precision', boolean: 'integer',
};

export function uniqueIndexName(physical: string, column: string): string {
  return `${physical}_u${createHash('sha256').update(column).digest('hex').slice(0, 10)}`;
}

interface StepContext {
  db: Kysely<any>;
  /**
   * Text columns compare by bytes on both engines: rules like `tier < "m"`, filters
   * (gt, lt) and order must not depend on a PostgreSQL cluster's locale (en_US sorts
   * 'a' before 'B', SQLite does not), or one rule would allow different rows per engine.
   */
  byteOrderCollation?: string;
  projectId: string;
  environment: string;
  desired: SchemaDocument;
}

function columnType(ctx: StepContext, type: ColumnType) {
  const physical = PHYSICAL_TYPES[type];
  // The collation name is a constant of the engine's capabilities, never client text.
  return physical === 'text' && ctx.byteOrderCollation ? sql.raw(`text collate "${ctx.byteOrderCollation}"`) : sql.raw(physical);
}

function columnDefinition(ctx: StepContext, spec: ColumnSpec) {
  return (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => {
    if (spec.type !== 'reference' || !spec.table) return c;
    const target = physicalTableName(ctx.projectId, ctx.environment, spec.table);
    return c.references(`${target}.id`).onDelete(spec.on_delete ?? 'restrict');
  };
}

async function addColumn(ctx: StepContext, physical: string, column: string, spec: ColumnSpec): Promise<void> {
  await ctx.db.schema.alterTable(physical).addColumn(column, columnType(ctx, spec.type), columnDefinition(ctx, spec)).execute();
  if (spec.default !== undefined && spec.default !== null) {
    // Existing rows get the default, so a required column holds for them too.
    const stored = encodeValue({ name: column, type: spec.type } as never, spec.default);
    await ctx.db.updateTable(physical).set({ [column]: stored }).where(column, 'is', null).execute();
  }
  if (spec.unique) await ctx.db.schema.createIndex(uniqueIndexName(physical, column)).unique().on(physical).column(column).execute();
}

async function dropColumn(ctx: StepContext, physical: string, column: string, spec: ColumnSpec): Promise<void> {
  if (spec.unique) await ctx.db.schema.dropIndex(uniqueIndexName(physical, column)).ifExists().execute();
  await ctx.db.schema.alterTable(physical).dropColumn(column).execute();
}

export async function runStep(ctx: StepContext, step: PlanStep): Promise<void> {
  const physical = physicalTableName(ctx.projectId, ctx.environment, step.table);
  switch (step.kind) {
    case 'create_table': {
      let builder = ctx.db.schema
        .createTable(physical)
        .addColumn('id', columnType(ctx, 'uuid'), (c) => c.primaryKey())
        .addColumn('created_by', columnType(ctx, 'text'))
        .addColumn('created_at', columnType(ctx, 'timestamp'), (c) => c.notNull())
        .addColumn('updated_at', columnType(ctx, 'timestamp'), (c) => c.notNull());
      for (const [column, spec] of Object.entries(step.spec.columns)) {
        builder = builder.addColumn(column, columnType(ctx, spec.type), columnDefinition(ctx, spec));
      }
      await builder.execute();
      // `self` rules filter on created_by, so it is indexed on every table.
      await ctx.db.schema.createIndex(`${physical}_cb`).on(physical).column('created_by').execute();
      // Lists are mostly "newest first": with this index a page reads its rows in order instead of sorting the table.
      await ctx.db.schema.createIndex(`${physical}_ca`).on(physical).column('created_at').execute();
      for (const [column, spec] of Object.entries(step.spec.columns)) {
        if (spec.unique) await ctx.db.schema.createIndex(uniqueIndexName(physical, column)).unique().on(physical).column(column).execute();
      }
      return;
    }
    case 'drop_table':
      await ctx.db.schema.dropTable(physical).execute();
      return;
    case 'add_column':
      return addColumn(ctx, physical, step.column, step.spec);
    case 'drop_column':
      return dropColumn(ctx, physical, step.column, step.spec);
    case 'retype_column':
      await dropColumn(ctx, physical, step.column, step.from);
      return addColumn(ctx, physical, step.column, step.spec);
    case 'add_unique':
      await ctx.db.schema.createIndex(uniqueIndexName(physical, step.column)).unique().on(physical).column(step.column).execute();
      return;
    case 'drop_unique':
      await ctx.db.schema.dropIndex(uniqueIndexName(physical, step.column)).ifExists().execute();
      return;
    case 'update_definition':
      return; // metadata only, written by the caller
  }
}

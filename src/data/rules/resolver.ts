import type { AliasableExpression, ExpressionBuilder } from 'kysely';
import type { ColumnModel, TableModel } from '../schema/model.js';

/**
 * The one place that turns a column name into SQL: only names of the table's
 * model resolve, and Kysely quotes them. Rules, filters, select and order all
 * come through here.
 */
export interface ColumnResolver {
  readonly table: TableModel;
  /** The column's model, or null if the table has no such column. */
  model(name: string): ColumnModel | null;
  /** The raw column (rules see every column, whatever the caller may read). */
  ref(eb: ExpressionBuilder<any, any>, name: string): AliasableExpression<unknown>;
}

const resolvers = new WeakMap<TableModel, ColumnResolver>();

/** The table's resolver: made once per model (a model never changes; a new schema is a new model). */
export function createResolver(table: TableModel): ColumnResolver {
  let resolver = resolvers.get(table);
  if (resolver === undefined) resolvers.set(table, (resolver = newResolver(table)));
  return resolver;
}

function newResolver(table: TableModel): ColumnResolver {
  return {
    table,
    model: (name) => table.columns.get(name) ?? null,
    ref(eb, name) {
      if (!table.columns.has(name)) throw new TypeError(`column ${name} is not in table ${table.name}`);
      return eb.ref(name);
    },
  };
}

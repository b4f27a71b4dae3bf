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

export function createResolver(table: TableModel): ColumnResolver {
  return {
    table,
    model: (name) => table.columns.get(name) ?? null,
    ref(eb, name) {
      if (!table.columns.has(name)) throw new TypeError(`column ${name} is not in table ${table.name}`);
      return eb.ref(name);
    },
  };
}

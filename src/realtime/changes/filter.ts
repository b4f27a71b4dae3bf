import { GatehouseError } from '../../errors/index.js';
import {
  category, compareValues, createResolver, DEFAULT_QUERY_LIMITS, encodeForColumn, encodeValue, parseQuery, readableColumn, ValueError,
  type AuthContext, type ColumnModel, type Stored, type TableModel,
} from '../../data/index.js';

// realtime-js filters (`column=op.value`), parsed by the Data API's own URL parser and checked
// against the caller's column permissions, then evaluated in memory on the masked row: a filter
// sees exactly what a /rest/v1 filter on the same column would (NULL where the caller may not read).

const OPS = { eq: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
type FilterOp = keyof typeof OPS | 'in';

export interface RowFilter {
  column: ColumnModel;
  op: FilterOp;
  values: Stored[];
}

function refused(message: string): GatehouseError {
  return new GatehouseError('data_query_invalid', { message, details: { parameter: 'filter' } });
}

const USAGE = 'a realtime filter is column=op.value with op one of eq, neq, lt, lte, gt, gte, or in.(a,b)';

/** Throws GatehouseError: data_query_invalid (syntax), data_column_unknown, data_column_forbidden, data_value_invalid. */
export function parseRowFilter(text: string, table: TableModel, auth: AuthContext): RowFilter {
  if (typeof text !== 'string' || text.length > 4096) throw refused(USAGE);
  const at = text.indexOf('=');
  if (at <= 0) throw refused(USAGE);
  const parsed = parseQuery({ [text.slice(0, at)]: text.slice(at + 1) }, DEFAULT_QUERY_LIMITS);
  const filter = parsed.where[0];
  if (parsed.where.length !== 1 || !filter || filter.kind !== 'filter' || filter.negated || !(filter.op in OPS || filter.op === 'in')) throw refused(USAGE);
  const column = readableColumn(createResolver(table), auth, filter.column);
  if (category(column.type) === 'json') {
    throw new GatehouseError('data_query_invalid', { message: `operator ${filter.op} does not apply to column ${column.name} of type json`, details: { column: column.name } });
  }
  const raw = Array.isArray(filter.value) ? filter.value : [filter.value];
  const values = raw.map((v) => {
    try {
      return encodeValue(column, v, true);
    } catch (error) {
      if (error instanceof ValueError) throw new GatehouseError('data_value_invalid', { message: error.message, details: { column: column.name } });
      throw error;
    }
  });
  return { column, op: filter.op as FilterOp, values };
}

/** `row` is the masked row (what the caller may read); an unknown comparison (NULL) never passes, as in SQL. */
export function passesFilter(filter: RowFilter, row: Readonly<Record<string, unknown>>): boolean {
  const raw = row[filter.column.name];
  if (raw === null || raw === undefined) return false;
  const value = encodeForColumn(filter.column, raw);
  if (value === undefined || value === null) return false;
  if (filter.op === 'in') return filter.values.some((v) => compareValues('==', value, v, false) === true);
  return compareValues(OPS[filter.op], value, filter.values[0], false) === true;
}

// What a /rest/v1 URL says, after the strict parser (parse.ts) and before any
// column is resolved: names here are only syntactically valid identifiers.

export const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'in', 'is'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  kind: 'filter';
  column: string;
  op: FilterOp;
  negated: boolean;
  /** `in`: the list; `is`: null | true | false | unknown; else the raw text. */
  value: string | string[];
}

export interface Logic {
  kind: 'and' | 'or';
  negated: boolean;
  items: Condition[];
}

export type Condition = Filter | Logic;

export type SelectItem = { kind: 'star' } | { kind: 'column'; column: string; alias: string };

export interface OrderItem {
  column: string;
  direction: 'asc' | 'desc';
  nulls: 'first' | 'last';
}

export interface ParsedQuery {
  select: SelectItem[];
  /** Top-level conditions, ANDed. */
  where: Condition[];
  order: OrderItem[];
  limit: number | null;
  offset: number | null;
  /** `columns=` of an insert (PostgREST): the body keys to use. */
  columns: string[] | null;
}

export interface QueryLimits {
  /** Rows per response at most, and the default page size. */
  maxPageSize: number;
  /** Filter conditions per request, counted through or/and trees. */
  maxFilters: number;
  /** Values in one in.(…) list. */
  maxInList: number;
  /** Nesting of or=(…)/and(…) groups. */
  maxLogicDepth: number;
  maxSelect: number;
  maxOrder: number;
  maxOffset: number;
  /** Characters of one filter value. */
  maxValueLength: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxPageSize: 1000, maxFilters: 50, maxInList: 100, maxLogicDepth: 4,
  maxSelect: 100, maxOrder: 10, maxOffset: 1_000_000, maxValueLength: 4096,
};

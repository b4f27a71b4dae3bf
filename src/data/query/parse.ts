import { GatehouseError } from '../../errors/index.js';
import { isIdentifier } from '../names.js';
import {
  FILTER_OPS, type Condition, type Filter, type FilterOp, type OrderItem, type ParsedQuery, type QueryLimits, type SelectItem,
} from './ast.js';

// A strict parser for PostgREST's URL grammar (docs.postgrest.org, "Tables and
// Views"), the subset of docs/api.md. Anything outside it is a 400 PGRST100 that
// names the parameter, never a guess: embedded resources, casts, JSON paths
// and other operators are refused rather than half-supported.

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'or', 'and', 'not.or', 'not.and', 'columns', 'on_conflict']);
const IS_VALUES = new Set(['null', 'true', 'false', 'unknown']);

export function queryError(message: string, details?: unknown): GatehouseError {
  return new GatehouseError('data_query_invalid', { message, details });
}

function identifier(name: string, where: string): string {
  if (!isIdentifier(name)) throw queryError(`"${name.slice(0, 60)}" in ${where} is not a column name`, { parameter: where });
  return name;
}

function integer(value: string, name: string, max: number): number {
  if (!/^\d{1,9}$/.test(value)) throw queryError(`${name} must be a non-negative integer`, { parameter: name });
  const n = Number(value);
  if (n > max) throw queryError(`${name} must be at most ${max}`, { parameter: name });
  return n;
}

function single(raw: unknown, name: string): string {
  if (Array.isArray(raw)) throw queryError(`${name} is given more than once`, { parameter: name });
  return String(raw);
}

/** Splits at top-level commas, honouring "quoted" parts and (nested) parentheses. */
function splitTopLevel(text: string, where: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')') { if (--depth < 0) throw queryError(`unbalanced parentheses in ${where}`); }
    else if (c === ',' && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  if (quoted || depth !== 0) throw queryError(`unbalanced quotes or parentheses in ${where}`);
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

interface Budget { filters: number; limits: QueryLimits }

function parseFilterValue(column: string, text: string, where: string, budget: Budget, inLogic: boolean): Filter {
  if (++budget.filters > budget.limits.maxFilters) throw queryError(`more than ${budget.limits.maxFilters} filters`);
  let rest = text;
  let negated = false;
  if (rest.startsWith('not.')) { negated = true; rest = rest.slice(4); }
  const dot = rest.indexOf('.');
  const op = (dot < 0 ? rest : rest.slice(0, dot)) as FilterOp;
  if (dot < 0 || !(FILTER_OPS as readonly string[]).includes(op)) {
    throw queryError(`unknown or missing operator in ${where}: use one of ${FILTER_OPS.join(', ')}`, { parameter: where });
  }
  const raw = rest.slice(dot + 1);
  if (raw.includes('\u0000')) throw queryError(`the value of ${where} contains a NUL character`, { parameter: where });
  if (raw.length > budget.limits.maxValueLength) throw queryError(`the value of ${where} is longer than ${budget.limits.maxValueLength} characters`);
  if (op === 'in') {
    if (!raw.startsWith('(') || !raw.endsWith(')')) throw queryError(`in needs a list in parentheses, e.g. in.(1,2) (${where})`, { parameter: where });
    const body = raw.slice(1, -1);
    const items = body === '' ? [] : splitTopLevel(body, where).map(unquote);
    if (items.length > budget.limits.maxInList) throw queryError(`in.(…) lists hold at most ${budget.limits.maxInList} values (${where})`, { parameter: where });
    return { kind: 'filter', column, op, negated, value: items };
  }
  const value = inLogic ? unquote(raw) : raw;
  if (op === 'is' && !IS_VALUES.has(value.toLowerCase())) throw queryError(`is takes null, true, false or unknown (${where})`, { parameter: where });
  return { kind: 'filter', column, op, negated, value: op === 'is' ? value.toLowerCase() : value };
}

/** `(a.eq.1,and(b.gt.2,c.is.null))` */
function parseLogic(kind: 'and' | 'or', negated: boolean, text: string, where: string, budget: Budget, depth: number): Condition {
  if (depth > budget.limits.maxLogicDepth) throw queryError(`or/and groups nest deeper than ${budget.limits.maxLogicDepth} (${where})`, { parameter: where });
  if (!text.startsWith('(') || !text.endsWith(')')) throw queryError(`${where} must be a list in parentheses, e.g. (a.eq.1,b.eq.2)`, { parameter: where });
  const items = splitTopLevel(text.slice(1, -1), where).map((item): Condition => {
    const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
    if (nested) return parseLogic(nested[2] as 'and' | 'or', !!nested[1], nested[3]!, where, budget, depth + 1);
    const dot = item.indexOf('.');
    if (dot < 0) throw queryError(`"${item.slice(0, 60)}" in ${where} is not a condition (column.operator.value)`, { parameter: where });
    return parseFilterValue(identifier(item.slice(0, dot), where), item.slice(dot + 1), where, budget, true);
  });
  if (items.length === 0) throw queryError(`${where} is empty`);
  return { kind, negated, items };
}

// select= and order= hold no values: an app sends a handful of distinct ones, over and over. Each
// text is parsed once and its (frozen) result reused; only the count bound, which depends on the
// limits, is checked per request. Bounded: past the bound the oldest text is forgotten.
const PARSED_TEXTS_MAX = 1000;

function memo<T extends object[]>(parse: (text: string) => T): (text: string) => T {
  const parsed = new Map<string, T>();
  return (text) => {
    let items = parsed.get(text);
    if (items === undefined) {
      items = parse(text);
      for (const item of items) Object.freeze(item);
      Object.freeze(items);
      if (parsed.size >= PARSED_TEXTS_MAX) parsed.delete(parsed.keys().next().value!);
      parsed.set(text, items);
    }
    return items;
  };
}

function parseSelect(text: string, limits: QueryLimits): SelectItem[] {
  // Counted before parsing, as when every text was parsed anew: the same error for the same request.
  if (countParts(text) > limits.maxSelect) throw queryError(`select names more than ${limits.maxSelect} columns`);
  return parsedSelect(text);
}

function countParts(text: string): number {
  let n = 1;
  for (let i = text.indexOf(','); i >= 0; i = text.indexOf(',', i + 1)) n++;
  return n;
}

const parsedSelect = memo((text: string): SelectItem[] => {
  const parts = text.split(',');
  return parts.map((part): SelectItem => {
    const item = part.trim();
    if (item === '*') return { kind: 'star' };
    if (!/^[a-z0-9_]+(:[a-z0-9_]+)?$/i.test(item)) {
      throw queryError(`select item "${item.slice(0, 60)}" is not supported: only *, column and alias:column (no embedding, casts or JSON paths)`, { parameter: 'select' });
    }
    const colon = item.indexOf(':');
    const alias = colon < 0 ? item : item.slice(0, colon);
    const column = colon < 0 ? item : item.slice(colon + 1);
    return { kind: 'column', column: identifier(column, 'select'), alias: identifier(alias, 'select') };
  });
});

function parseOrder(text: string, limits: QueryLimits): OrderItem[] {
  if (countParts(text) > limits.maxOrder) throw queryError(`order names more than ${limits.maxOrder} columns`);
  return parsedOrder(text);
}

const parsedOrder = memo((text: string): OrderItem[] => {
  const items = text.split(',');
  return items.map((item) => {
    const [column = '', ...mods] = item.split('.');
    let direction: 'asc' | 'desc' = 'asc';
    let nulls: 'first' | 'last' | null = null;
    for (const mod of mods) {
      if (mod === 'asc' || mod === 'desc') direction = mod;
      else if (mod === 'nullsfirst') nulls = 'first';
      else if (mod === 'nullslast') nulls = 'last';
      else throw queryError(`order modifier "${mod.slice(0, 20)}" is not one of asc, desc, nullsfirst, nullslast`, { parameter: 'order' });
    }
    // PostgreSQL's defaults, spelled out so SQLite sorts NULLs the same way.
    return { column: identifier(column, 'order'), direction, nulls: nulls ?? (direction === 'asc' ? 'last' : 'first') };
  });
});

// No select= is `*` and no order= is none: shared frozen lists, like the parsed ones above, so what
// is made of them per table and caller is kept too (rows/read-plan.ts).
const ALL_COLUMNS = Object.freeze([Object.freeze({ kind: 'star' as const })]) as unknown as SelectItem[];
const NO_ORDER = Object.freeze([]) as unknown as OrderItem[];

/** Parses Fastify's query object (string | string[] values) into a ParsedQuery. */
export function parseQuery(query: Record<string, unknown>, limits: QueryLimits): ParsedQuery {
  const parsed: ParsedQuery = { select: ALL_COLUMNS, where: [], order: NO_ORDER, limit: null, offset: null, columns: null };
  const budget: Budget = { filters: 0, limits };
  for (const [key, raw] of Object.entries(query ?? {})) {
    if (key === 'select') parsed.select = parseSelect(single(raw, key), limits);
    else if (key === 'order') parsed.order = parseOrder(single(raw, key), limits);
    else if (key === 'limit') parsed.limit = integer(single(raw, key), 'limit', limits.maxPageSize);
    else if (key === 'offset') parsed.offset = integer(single(raw, key), 'offset', limits.maxOffset);
    else if (key === 'columns') parsed.columns = splitTopLevel(single(raw, key), 'columns').map((c) => identifier(unquote(c.trim()), 'columns'));
    else if (key === 'on_conflict') throw queryError('upsert (on_conflict) is not supported', { parameter: key });
    else if (key === 'or' || key === 'and' || key === 'not.or' || key === 'not.and') {
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        parsed.where.push(parseLogic(key.endsWith('or') ? 'or' : 'and', key.startsWith('not.'), String(value), key, budget, 1));
      }
    } else if (RESERVED.has(key)) throw queryError(`${key} is not supported`, { parameter: key });
    else {
      const column = identifier(key, `the filter ${key.slice(0, 60)}`);
      for (const value of Array.isArray(raw) ? raw : [raw]) parsed.where.push(parseFilterValue(column, String(value), column, budget, false));
    }
  }
  return parsed;
}

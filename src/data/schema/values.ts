import type { ColumnModel } from './model.js';

// One codec per column type, the same on both engines: booleans are stored as
// 0/1, timestamps as ISO-8601 UTC text, json as text, integers as bigint. So a
// bound value never depends on the engine, and comparisons agree.

export class ValueError extends Error {
  constructor(readonly column: string, message: string) {
    super(message);
    this.name = 'ValueError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export type Stored = string | number | null;

function bad(column: ColumnModel, value: unknown, what: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
  throw new ValueError(column.name, `invalid input for column ${column.name} (${what}): ${shown}`);
}

export function toTimestamp(column: ColumnModel, value: unknown): string {
  if (typeof value !== 'string' || !ISO_LIKE.test(value)) bad(column, value, 'timestamp, ISO-8601');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) bad(column, value, 'timestamp, ISO-8601');
  return date.toISOString();
}

/** A JSON body value to what is stored. `fromText`: the value came from a URL (always a string). */
export function encodeValue(column: ColumnModel, value: unknown, fromText = false): Stored {
  if (value === null) return null;
  switch (column.type) {
    case 'text':
      if (typeof value !== 'string') bad(column, value, 'text');
      // PostgreSQL text cannot hold NUL; refuse it on both engines alike.
      if (value.includes('\u0000')) bad(column, value, 'text without NUL characters');
      return value;
    case 'uuid':
    case 'reference':
      if (typeof value !== 'string' || !UUID.test(value)) bad(column, value, 'uuid');
      return value.toLowerCase();
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) bad(column, value, 'integer');
      return n;
    }
    case 'number': {
      const n = typeof value === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) bad(column, value, 'number');
      return n;
    }
    case 'boolean':
      if (value === true || value === 'true') return 1;
      if (value === false || value === 'false') return 0;
      return bad(column, value, 'boolean');
    case 'timestamp':
      return toTimestamp(column, value);
    case 'json':
      if (fromText) bad(column, value, 'json columns cannot be compared');
      return JSON.stringify(value);
  }
}

/** What is stored to the JSON a client gets. */
export function decodeValue(column: ColumnModel, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'integer':
    case 'number':
      return Number(value);
    case 'boolean':
      return Number(value) === 1;
    case 'json':
      return JSON.parse(String(value));
    default:
      return value;
  }
}

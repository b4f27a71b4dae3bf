import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../../errors/index.js';

// PostgREST's headers: Prefer (RFC 7240), Accept for .single(), Range.

export interface Preferences {
  returnRepresentation: boolean;
  count: boolean;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : value ?? '';
}

export function parsePrefer(request: FastifyRequest): Preferences {
  const prefs: Preferences = { returnRepresentation: false, count: false };
  const header = request.headers.prefer;
  if (header === undefined) return prefs;
  for (const raw of headerText(header).split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '') continue;
    const [name, value = ''] = token.split('=', 2).map((s) => s.trim()) as [string, string?];
    if (name === 'return') {
      if (!['representation', 'minimal', 'headers-only'].includes(value)) throw new GatehouseError('data_query_invalid', { message: `Prefer: return=${value.slice(0, 30)} is not supported` });
      prefs.returnRepresentation = value === 'representation';
    } else if (name === 'count') {
      // planned and estimated fall back to exact: the tables are small enough, and a wrong count is worse.
      if (!['exact', 'planned', 'estimated'].includes(value)) throw new GatehouseError('data_query_invalid', { message: 'Prefer: count must be exact, planned or estimated' });
      prefs.count = true;
    } else if (name === 'resolution') {
      throw new GatehouseError('data_query_invalid', { message: 'upsert (Prefer: resolution=…) is not supported' });
    } else if (name === 'tx' || name === 'max-affected') {
      // Refused, not ignored: a client relying on a rollback must not get a commit.
      throw new GatehouseError('data_query_invalid', { message: `Prefer: ${name} is not supported` });
    }
    // missing=default, handling=lenient, timezone=…: harmless to ignore (defaults always apply).
  }
  return prefs;
}

export interface AcceptOptions {
  single: boolean;
  stripNulls: boolean;
}

export function parseAccept(request: FastifyRequest): AcceptOptions {
  const header = request.headers.accept;
  if (header === undefined || header === '*/*') return { single: false, stripNulls: false };
  const accept = headerText(header).toLowerCase();
  return { single: accept.includes('application/vnd.pgrst.object+json'), stripNulls: /nulls=stripped/.test(accept) };
}

/** `Range: 0-24` (Range-Unit: items). */
export function parseRange(request: FastifyRequest, maxPageSize: number, maxOffset = Number.MAX_SAFE_INTEGER): { offset: number; limit: number | null } | null {
  const header = request.headers.range;
  if (header === undefined || header === '') return null;
  const match = /^\s*(\d{1,9})-(\d{0,9})\s*$/.exec(headerText(header));
  if (!match) throw new GatehouseError('data_range_invalid', { message: 'Range must look like 0-24', details: `Range: ${headerText(header).slice(0, 40)}` });
  const from = Number(match[1]);
  const to = match[2] === '' ? null : Number(match[2]);
  if (to !== null && to < from) throw new GatehouseError('data_range_invalid', { message: 'the Range ends before it starts' });
  // The same bound as offset=…: a Range is no way around it.
  if (from > maxOffset) throw new GatehouseError('data_range_invalid', { message: `the Range starts after ${maxOffset}` });
  return { offset: from, limit: to === null ? null : Math.min(to - from + 1, maxPageSize) };
}

/** `0-9/42`, `*\/0` for an empty page, `/*` when the total was not asked for. */
export function contentRange(offset: number, rows: number, total: number | null): string {
  const span = rows === 0 ? '*' : `${offset}-${offset + rows - 1}`;
  return `${span}/${total ?? '*'}`;
}

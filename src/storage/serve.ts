import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import type { BlobBackend, ByteRange } from './backends/backend.js';
import { isActiveType } from './mime.js';
import { baseName } from './paths.js';
import type { ObjectRow } from './store.js';

// Serving an object's bytes. Files are the users', not ours, and they are served from Gatehouse's
// own origin, so they must never act in it: `nosniff` (the browser keeps our Content-Type), a CSP
// that sandboxes the response as a document (no script, no same-origin access even if opened
// directly), and `attachment` for the types a browser would render as an active document (HTML,
// SVG, XML…). Private objects are `private` to caches; Range and If-None-Match work as in RFC 9110.

const SANDBOX_CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

export interface ServeOptions {
  /** `public`: a public bucket; shared caches may keep it. */
  cache: 'public' | 'private';
  /** storage-js `download` option: `''` (the object's own name) or a file name; undefined: inline. */
  download?: string;
}

/** RFC 9110 §14.1.2, one range; several ranges are served whole (allowed, and simpler). */
export function parseRange(header: string | undefined, size: number): ByteRange | 'whole' | 'unsatisfiable' {
  if (!header) return 'whole';
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'whole';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => { const v = t.trim().replace(/^W\//, ''); return v === '*' || v === etag; });
}

/** RFC 6266 / 8187: an ASCII fallback and the exact UTF-8 name. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export async function sendObject(request: FastifyRequest, reply: FastifyReply, backend: BlobBackend, row: ObjectRow, options: ServeOptions): Promise<FastifyReply> {
  const etag = `"${row.etag}"`;
  const maxAge = /^max-age=(\d+)$/.exec(row.cache_control ?? '')?.[1] ?? '3600';
  reply.header('ETag', etag)
    .header('Last-Modified', new Date(row.updated_at).toUTCString())
    .header('Cache-Control', `${options.cache}, max-age=${maxAge}`)
    .header('Accept-Ranges', 'bytes')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', SANDBOX_CSP);
  if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
  const active = isActiveType(row.mimetype);
  const fileName = options.download ? options.download : baseName(row.name);
  reply.header('Content-Disposition', contentDisposition(active || options.download !== undefined ? 'attachment' : 'inline', fileName));
  reply.type(row.mimetype);
  const ifRange = request.headers['if-range'];
  const range = ifRange !== undefined && ifRange !== etag ? 'whole' : parseRange(request.headers.range, row.size);
  if (range === 'unsatisfiable') {
    throw new GatehouseError('storage_range_not_satisfiable', { headers: { 'Content-Range': `bytes */${row.size}` } });
  }
  const length = range === 'whole' ? row.size : range.end - range.start + 1;
  const stream = request.method === 'HEAD' || length === 0 ? null : await backend.get(row.version, range === 'whole' ? undefined : range).catch((error: unknown) => {
    throw new GatehouseError('storage_object_not_found', { cause: error });
  });
  reply.header('Content-Length', String(length));
  if (range !== 'whole') reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${row.size}`);
  return stream ? reply.send(stream) : reply.send();
}

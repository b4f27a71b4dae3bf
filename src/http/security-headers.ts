import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { isActiveType, mediaType } from '../shared/media-type.js';

/** The security headers, split by what they protect. */
export interface SecurityHeaders {
  /** Every response: nosniff keeps a browser from running a JSON body as script or HTML; HSTS under TLS. */
  readonly always: Readonly<Record<string, string>>;
  /**
   * Responses a browser renders as a page (HTML, XHTML, SVG) and the /docs pages: the CSP, frame,
   * referrer and cross-origin policies. On a JSON API response they protect nothing and cost
   * about 1 KB of every answer (issue 18), so they are added only here.
   */
  readonly document: Readonly<Record<string, string>>;
}

const ALWAYS = new Set(['x-content-type-options', 'strict-transport-security']);

const JSON_TYPE = 'application/json; charset=utf-8';

/** A type a browser renders as a document that can run script or be framed (HTML, SVG, any XML, XSL…). */
export function isDocumentType(contentType: unknown): boolean {
  if (typeof contentType !== 'string') return false;
  // Asked on every response, of the same few values: JSON, mostly.
  if (contentType === JSON_TYPE) return false;
  const type = mediaType(contentType);
  return type !== null && isActiveType(type);
}

/**
 * The security headers, decided by helmet once at start. Our policy has no per-request part (no
 * CSP nonces), so running helmet's middleware on each response — as @fastify/helmet does —
 * recomputed the same headers every time.
 */
export function securityHeaders({ tls }: { tls: boolean }): SecurityHeaders {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  const middleware = helmet({
    strictTransportSecurity: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  const always: Record<string, string> = {};
  const document: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) (ALWAYS.has(name) ? always : document)[name] = value;
  return Object.freeze({ always: Object.freeze(always), document: Object.freeze(document) });
}

/**
 * onSend: the document headers on a page. A header the route set itself (storage's sandbox CSP on
 * served files, the docs' own CSP) is kept.
 */
export function addDocumentHeaders(reply: { getHeader(name: string): unknown; hasHeader(name: string): boolean; header(name: string, value: string): unknown }, document: Readonly<Record<string, string>>, forceDocs: boolean): void {
  if (!forceDocs && !isDocumentType(reply.getHeader('content-type'))) return;
  for (const name in document) if (!reply.hasHeader(name)) reply.header(name, document[name]!);
}

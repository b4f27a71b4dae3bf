import { describe, expect, it } from 'vitest';
import { addDocumentHeaders, isDocumentType, securityHeaders } from './security-headers.js';

describe('document headers', () => {
  it('XML, XSL and +xml types get the page headers; JSON does not', () => {
    for (const type of ['text/html; charset=utf-8', 'text/xml', 'application/xml; charset=utf-8', 'application/atom+xml', 'text/xsl', 'image/svg+xml']) {
      expect(isDocumentType(type)).toBe(true);
    }
    expect(isDocumentType('application/json; charset=utf-8')).toBe(false);
    const headers = new Map<string, string>([['content-type', 'application/xml']]);
    const reply = { getHeader: (n: string) => headers.get(n), hasHeader: (n: string) => headers.has(n), header: (n: string, v: string) => headers.set(n, v) };
    addDocumentHeaders(reply, securityHeaders({ tls: false }).document, false);
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});

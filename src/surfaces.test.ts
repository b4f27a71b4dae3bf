import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeClassOf } from './access/index.js';
import { errorDialectOf, pinDialect } from './http/surface.js';
import { SURFACES } from './surfaces.js';

/** A request no route matched (what the error handler sees on a 404). */
const unmatched = (url: string) => ({ url, routeOptions: { url: undefined, config: {} } }) as unknown as FastifyRequest;
const routeClassForPath = (method: string, path: string) => routeClassOf(SURFACES.forPath(path), method);

describe('error surfaces', () => {
  it('a pinned surface (the provider kind) wins over the URL; unpinned requests follow the URL', () => {
    const custom = unmatched('/llm/claude/v1/messages');
    expect(errorDialectOf(custom, SURFACES)).toBe('openai');
    pinDialect(custom, 'anthropic');
    expect(errorDialectOf(custom, SURFACES)).toBe('anthropic');
    expect(errorDialectOf(unmatched('/llm/claude/v1/messages'), SURFACES)).toBe('openai');
    expect(errorDialectOf(unmatched('/llm/gemini/v1beta/models'), SURFACES)).toBe('gemini');
  });

  it('each surface speaks its own dialect, and a lookalike prefix is not the surface', () => {
    expect(errorDialectOf(unmatched('/auth/v1/nope'), SURFACES)).toBe('gotrue');
    expect(errorDialectOf(unmatched('/rest/v1/notes?select=*'), SURFACES)).toBe('postgrest');
    expect(errorDialectOf(unmatched('/llm/anthropic/v1/messages'), SURFACES)).toBe('anthropic');
    expect(errorDialectOf(unmatched('/llm/anthropicx/v1/messages'), SURFACES)).toBe('openai');
    expect(errorDialectOf(unmatched('/admin/v1/keys'), SURFACES)).toBe('gatehouse');
    expect(errorDialectOf(unmatched('/realtime/v1/api/broadcast'), SURFACES)).toBe('gatehouse');
    expect(SURFACES.forPath('/realtime/v1/websocket').name).toBe('realtime');
    expect(SURFACES.forPath('/realtimex').name).toBe('ops');
    expect(errorDialectOf(unmatched('/authx'), SURFACES)).toBe('gatehouse');
  });
});

describe('route class of a route that does not declare one', () => {
  it('follows the surface: /auth auth, /llm llm, /rest reads and writes, /admin admin, else default', () => {
    expect(routeClassForPath('POST', '/auth/v1/token')).toBe('auth');
    expect(routeClassForPath('POST', '/llm/openai/v1/chat/completions')).toBe('llm');
    expect(routeClassForPath('GET', '/llm/gemini/v1beta/models')).toBe('llm');
    expect(routeClassForPath('GET', '/rest/v1/notes')).toBe('data_read');
    expect(routeClassForPath('HEAD', '/rest/v1/notes')).toBe('data_read');
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) expect(routeClassForPath(method, '/rest/v1/notes')).toBe('data_write');
    expect(routeClassForPath('GET', '/admin/v1/keys')).toBe('admin');
    expect(routeClassForPath('GET', '/realtime/v1/websocket')).toBe('realtime');
    expect(routeClassForPath('POST', '/realtime/v1/api/broadcast')).toBe('realtime');
    expect(routeClassForPath('GET', '/health')).toBe('default');
    // A prefix must be a whole path segment's start, not a lookalike.
    expect(routeClassForPath('GET', '/llmx')).toBe('default');
    expect(routeClassForPath('GET', '/restore')).toBe('default');
  });
});

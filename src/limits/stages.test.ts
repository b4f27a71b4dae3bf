import { describe, expect, it } from 'vitest';
import { routeClassForPath } from './stages.js';

describe('route class of a route that does not declare one', () => {
  it('follows the surface: /auth auth, /llm llm, /rest reads and writes, /admin admin, else default', () => {
    expect(routeClassForPath('POST', '/auth/v1/token')).toBe('auth');
    expect(routeClassForPath('POST', '/llm/openai/v1/chat/completions')).toBe('llm');
    expect(routeClassForPath('GET', '/llm/gemini/v1beta/models')).toBe('llm');
    expect(routeClassForPath('GET', '/rest/v1/notes')).toBe('data_read');
    expect(routeClassForPath('HEAD', '/rest/v1/notes')).toBe('data_read');
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) expect(routeClassForPath(method, '/rest/v1/notes')).toBe('data_write');
    expect(routeClassForPath('GET', '/admin/v1/keys')).toBe('admin');
    expect(routeClassForPath('GET', '/health')).toBe('default');
    // A prefix must be a whole path segment's start, not a lookalike.
    expect(routeClassForPath('GET', '/llmx')).toBe('default');
    expect(routeClassForPath('GET', '/restore')).toBe('default');
  });
});

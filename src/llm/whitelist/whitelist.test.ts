import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { checkEndpointChanges, DEFAULT_ENDPOINTS, effectiveEndpoints, guardTarget, matchEndpoint, parsePattern, upstreamQuery } from './index.js';

const openai = effectiveEndpoints('openai', { add: [], remove: [] });

describe('endpoint patterns', () => {
  it('match the whole path, never a prefix', () => {
    expect(matchEndpoint(openai, 'GET', '/v1/files/file-abc')?.params).toEqual([{ name: 'file', value: 'file-abc' }]);
    expect(matchEndpoint(openai, 'GET', '/v1/files/file-abc/content/x')).toBeNull();
    expect(matchEndpoint(openai, 'GET', '/v1/files/file-abc/')).toBeNull();
    expect(matchEndpoint(openai, 'POST', '/v1/chat/completionsX')).toBeNull();
  });

  it('match method and path together', () => {
    expect(matchEndpoint(openai, 'POST', '/v1/chat/completions')?.pattern.flags.has('usage')).toBe(true);
    expect(matchEndpoint(openai, 'GET', '/v1/chat/completions')).toBeNull(); // stored completions of every user
    expect(matchEndpoint(openai, 'DELETE', '/v1/models/gpt-4o')).toBeNull();
  });

  it('refuse administration, organization, fine-tuning, keys, usage and billing by default', () => {
    for (const [method, path] of [
      ['GET', '/v1/organization/users'], ['POST', '/v1/organization/invites'], ['GET', '/v1/organization/admin_api_keys'],
      ['GET', '/v1/organization/projects'], ['POST', '/v1/fine_tuning/jobs'], ['GET', '/v1/organization/usage/completions'],
      ['GET', '/v1/dashboard/billing/usage'], ['GET', '/v1/chat/completions'],
    ] as const) expect(matchEndpoint(openai, method, path), `${method} ${path}`).toBeNull();
    const anthropic = effectiveEndpoints('anthropic', { add: [], remove: [] });
    expect(matchEndpoint(anthropic, 'GET', '/v1/organizations/api_keys')).toBeNull();
    expect(matchEndpoint(anthropic, 'POST', '/v1/messages')).not.toBeNull();
  });

  it('gemini patterns hold the model and the method in one segment', () => {
    const gemini = effectiveEndpoints('gemini', { add: [], remove: [] });
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/gemini-2.0-flash:generateContent')?.params).toEqual([{ name: 'model', value: 'gemini-2.0-flash' }]);
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/x:createTunedModel')).toBeNull();
    expect(matchEndpoint(gemini, 'POST', '/v1beta/tunedModels')).toBeNull();
  });

  it('an admin can narrow and extend the list, but never open account administration', () => {
    expect(checkEndpointChanges('openai', { add: ['POST /v1/fine_tuning/jobs'], remove: ['POST /v1/images/generations'] })).toEqual([]);
    const list = effectiveEndpoints('openai', { add: ['POST /v1/fine_tuning/jobs'], remove: ['POST /v1/images/generations'] });
    expect(matchEndpoint(list, 'POST', '/v1/fine_tuning/jobs')).not.toBeNull();
    expect(matchEndpoint(list, 'POST', '/v1/images/generations')).toBeNull();
    expect(checkEndpointChanges('openai', { add: ['GET /v1/organization/users'], remove: [] })[0]).toMatch(/never/);
    expect(checkEndpointChanges('openai', { add: ['GET /v1/{x}/../y'], remove: [] })).toHaveLength(1);
    expect(checkEndpointChanges('openai', { add: [], remove: ['GET /v1/not-a-default'] })[0]).toMatch(/not one of the default/);
    expect(effectiveEndpoints('openai', { add: ['GET /v1/organization/users'], remove: [] }).some((p) => p.path.includes('organization'))).toBe(false);
  });

  it('every default pattern parses', () => {
    for (const kind of ['openai', 'anthropic', 'gemini'] as const) for (const p of DEFAULT_ENDPOINTS[kind]) expect(() => parsePattern(p)).not.toThrow();
  });
});

describe('path guard', () => {
  const refused = (url: string) => {
    try {
      guardTarget(url);
      return false;
    } catch (error) {
      return error instanceof GatehouseError && error.code === 'bad_request';
    }
  };

  it('splits provider, path and query', () => {
    expect(guardTarget('/llm/openai/v1/files?limit=2')).toEqual({ provider: 'openai', path: '/v1/files', query: 'limit=2' });
    expect(guardTarget('/llm/gemini/v1beta/models/m%3AgenerateContent').path).toBe('/v1beta/models/m:generateContent');
  });

  it.each([
    '/llm/openai/v1/../organization', '/llm/openai/v1/./files', '/llm/openai/v1/%2e%2e/x', '/llm/openai/v1%2forganization',
    '/llm/openai/v1%5corganization', '/llm/openai/v1//files', '/llm/openai/v1/files/', '/llm/openai/v1\\files', '/llm/openai/%252e',
    'http://evil/llm/openai/v1/files', '//evil/llm/openai/v1', '/llm/OpenAI/v1/models', '/llm/openai', '/llm/openai/v1/files?x=a b',
  ])('refuses %s', (url) => {
    expect(refused(url)).toBe(true);
  });

  it('drops a caller-supplied Gemini key from the query', () => {
    expect(upstreamQuery('alt=sse&key=AIza123')).toBe('?alt=sse');
    expect(upstreamQuery('key=x')).toBe('');
  });
});

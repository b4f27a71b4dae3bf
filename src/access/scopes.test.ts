import { describe, expect, it } from 'vitest';
import { hasScope, validateScope } from './scopes.js';

describe('key scopes', () => {
  it('an unscoped key has every scope of its kind', () => {
    expect(hasScope(null, 'admin:keys')).toBe(true);
  });

  it.each([
    [['data:notes:read'], 'data:notes:read', true],
    [['data:notes:read'], 'data:notes:write', false],
    [['data:notes:read'], 'data:todos:read', false],
    [['data:*:read'], 'data:todos:read', true],
    [['data:*:read'], 'data:todos:write', false],
    [['llm:*'], 'llm:openai', true],
    [['llm:*'], 'data:notes:read', false],
    [['admin:keys'], 'admin:keys', true],
    [['admin:keys'], 'admin:settings', false],
    [['admin'], 'admin:keys', false],
    [['*'], 'admin:keys', true],
    [[], 'data:notes:read', false],
  ])('%j grants %s: %s', (granted, required, expected) => {
    expect(hasScope(granted, required)).toBe(expected);
  });

  it.each(['data:notes:read', 'llm:*', 'admin:keys', 'data:*:read'])('accepts %s', (scope) => {
    expect(validateScope(scope)).toBeNull();
  });

  it.each(['', 'Data:notes', 'data::read', 'billing:all', 'data:notes:read:x:y', 'data:no tes', 'data:*x'])('refuses %j', (scope) => {
    expect(validateScope(scope)).not.toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { pinSurface, surfaceOf } from './surfaces.js';

describe('error surfaces', () => {
  it('a pinned surface (the provider kind) wins over the URL; unpinned requests follow the URL', () => {
    const custom = { url: '/llm/claude/v1/messages' };
    expect(surfaceOf(custom)).toBe('openai');
    pinSurface(custom, 'anthropic');
    expect(surfaceOf(custom)).toBe('anthropic');
    expect(surfaceOf({ url: '/llm/claude/v1/messages' })).toBe('openai');
    expect(surfaceOf({ url: '/llm/gemini/v1beta/models' })).toBe('gemini');
  });
});

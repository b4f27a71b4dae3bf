import { describe, expect, it } from 'vitest';
import { mostRestrictiveWindow, rateLimitHeaders, retryAfterSeconds } from './headers.js';
import type { Decision } from './store.js';

const T0 = Date.UTC(2030, 0, 1);

describe('rate-limit headers', () => {
  it('report the window with the fewest requests left; a tie goes to the sooner reset', () => {
    const decision: Decision = {
      allowed: true,
      retryAfterMs: 0,
      windows: [
        { limit: 50, windowMs: 3_600_000, remaining: 4, resetMs: T0 + 3_600_000 },
        { limit: 10, windowMs: 60_000, remaining: 4, resetMs: T0 + 60_000 },
      ],
    };
    expect(mostRestrictiveWindow(decision).windowMs).toBe(60_000);
    expect(rateLimitHeaders('auth', decision, T0 + 1, 'both')).toEqual({
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '4',
      'X-RateLimit-Reset': String((T0 + 60_000) / 1000),
      'RateLimit-Policy': '"auth-3600s";q=50;w=3600, "auth-60s";q=10;w=60',
      RateLimit: '"auth-60s";r=4;t=60',
    });
  });

  it('on a denial, report the refusing window that opens last, agreeing with Retry-After', () => {
    const decision: Decision = {
      allowed: false,
      retryAfterMs: 3_600_000 - 1,
      windows: [
        { limit: 10, windowMs: 60_000, remaining: 0, resetMs: T0 + 60_000 },
        { limit: 50, windowMs: 3_600_000, remaining: 0, resetMs: T0 + 3_600_000 },
      ],
    };
    const headers = rateLimitHeaders('llm', decision, T0 + 1, 'both');
    expect(headers['X-RateLimit-Reset']).toBe(String((T0 + 3_600_000) / 1000));
    expect(headers.RateLimit).toBe('"llm-3600s";r=0;t=3600');
    expect(headers['Retry-After']).toBe('3600');
  });

  it('send one family by default (X-RateLimit-*), the IETF fields alone under draft, Retry-After under every setting', () => {
    const decision: Decision = {
      allowed: false,
      retryAfterMs: 30_000,
      windows: [{ limit: 10, windowMs: 60_000, remaining: 0, resetMs: T0 + 30_000 }],
    };
    const legacy = { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String((T0 + 30_000) / 1000) };
    const draft = { 'RateLimit-Policy': '"data_read-60s";q=10;w=60', RateLimit: '"data_read-60s";r=0;t=30' };
    expect(rateLimitHeaders('data_read', decision, T0)).toEqual({ ...legacy, 'Retry-After': '30' });
    expect(rateLimitHeaders('data_read', decision, T0, 'legacy')).toEqual({ ...legacy, 'Retry-After': '30' });
    expect(rateLimitHeaders('data_read', decision, T0, 'draft')).toEqual({ ...draft, 'Retry-After': '30' });
    expect(rateLimitHeaders('data_read', decision, T0, 'both')).toEqual({ ...legacy, ...draft, 'Retry-After': '30' });
  });

  it('Retry-After rounds up and is at least 1', () => {
    const denied = (retryAfterMs: number): Decision => ({ allowed: false, retryAfterMs, windows: [] });
    expect(retryAfterSeconds(denied(1))).toBe(1);
    expect(retryAfterSeconds(denied(0))).toBe(1);
    expect(retryAfterSeconds(denied(1_000))).toBe(1);
    expect(retryAfterSeconds(denied(1_001))).toBe(2);
  });

  it('no Retry-After while allowed', () => {
    const decision: Decision = {
      allowed: true,
      retryAfterMs: 0,
      windows: [{ limit: 1, windowMs: 1_000, remaining: 0, resetMs: T0 + 1_000 }],
    };
    expect(rateLimitHeaders('default', decision, T0)).not.toHaveProperty('Retry-After');
  });
});

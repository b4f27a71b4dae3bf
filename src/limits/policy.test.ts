import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, limitsConfigErrors, resolvePolicy, validateLimitsConfig, type LimitsConfig } from './policy.js';

const MIN = 60_000;
const HOUR = 3_600_000;

describe('limits policy', () => {
  it('defaults: 20/100/1000 per minute by tier, auth 10/min + 100/h, llm 10/min + 50/h', () => {
    const at = (routeClass: 'default' | 'data_read' | 'auth' | 'llm', tier: 'guest' | 'user' | 'admin') =>
      resolvePolicy(DEFAULT_LIMITS, { routeClass, tier });
    expect(at('default', 'guest')).toEqual({ windows: [{ limit: 20, windowMs: MIN }], failMode: 'closed' });
    expect(at('default', 'user').windows).toEqual([{ limit: 100, windowMs: MIN }]);
    expect(at('default', 'admin').windows).toEqual([{ limit: 1000, windowMs: MIN }]);
    expect(at('auth', 'guest')).toEqual({
      windows: [{ limit: 10, windowMs: MIN }, { limit: 100, windowMs: HOUR }],
      failMode: 'closed',
    });
    expect(at('llm', 'user')).toEqual({
      windows: [{ limit: 10, windowMs: MIN }, { limit: 50, windowMs: HOUR }],
      failMode: 'closed',
    });
  });

  it('defaults fail closed everywhere except data reads', () => {
    const modes = Object.fromEntries(Object.entries(DEFAULT_LIMITS.classes).map(([k, v]) => [k, v.failMode]));
    expect(modes).toEqual({ auth: 'closed', llm: 'closed', data_read: 'open', data_write: 'closed', admin: 'closed', storage: 'closed', realtime: 'closed', default: 'closed' });
  });

  it('defaults are valid and frozen', () => {
    expect(limitsConfigErrors(DEFAULT_LIMITS)).toEqual([]);
    expect(Object.isFrozen(DEFAULT_LIMITS.classes.auth.tiers.guest[0])).toBe(true);
  });

  it('an override replaces the windows of its class for that subject only', () => {
    const config: LimitsConfig = { ...DEFAULT_LIMITS, overrides: { 'user:u_1': { llm: [{ limit: 500, windowMs: HOUR }] } } };
    expect(resolvePolicy(config, { routeClass: 'llm', tier: 'user', subject: 'user:u_1' })).toEqual({
      windows: [{ limit: 500, windowMs: HOUR }],
      failMode: 'closed',
    });
    expect(resolvePolicy(config, { routeClass: 'auth', tier: 'user', subject: 'user:u_1' }).windows).toEqual(
      DEFAULT_LIMITS.classes.auth.tiers.user,
    );
    expect(resolvePolicy(config, { routeClass: 'llm', tier: 'user', subject: 'user:u_2' }).windows).toEqual(
      DEFAULT_LIMITS.classes.llm.tiers.user,
    );
  });

  it('a subject named like an Object.prototype member finds no override', () => {
    for (const subject of ['key:__proto__', '__proto__', 'constructor', 'toString']) {
      expect(resolvePolicy(DEFAULT_LIMITS, { routeClass: 'default', tier: 'guest', subject }).windows).toEqual([
        { limit: 20, windowMs: MIN },
      ]);
    }
  });

  it('validation rejects unknown keys, bad override subjects, bad windows and duplicate window lengths', () => {
    const withOverride = (overrides: unknown) => ({ ...DEFAULT_LIMITS, overrides });
    expect(limitsConfigErrors({ ...DEFAULT_LIMITS, extra: 1 })).not.toEqual([]);
    expect(limitsConfigErrors(withOverride({ 'ip:1.2.3.4': {} }))).toEqual(['/overrides/ip:1.2.3.4: Unexpected property']);
    expect(limitsConfigErrors(withOverride({ 'user:a': { llm: [{ limit: 0, windowMs: MIN }] } }))).not.toEqual([]);
    expect(limitsConfigErrors(withOverride({ 'user:a': { llm: [{ limit: 5, windowMs: 1500 }] } }))).not.toEqual([]);
    expect(limitsConfigErrors(withOverride({ 'user:a': { llm: [] } }))).not.toEqual([]);
    expect(limitsConfigErrors(withOverride({ 'user:a': { llm: [{ limit: 5, windowMs: MIN }, { limit: 9, windowMs: MIN }] } }))).toEqual([
      '/overrides/user:a/llm: two windows have the same windowMs',
    ]);
    const { admin: _, ...missingClass } = DEFAULT_LIMITS.classes;
    expect(limitsConfigErrors({ ...DEFAULT_LIMITS, classes: missingClass })).not.toEqual([]);
  });

  it('validateLimitsConfig throws TypeError on a bad config and returns a frozen copy of a good one', () => {
    expect(() => validateLimitsConfig({})).toThrow(TypeError);
    const input = { ...DEFAULT_LIMITS, overrides: { 'key:k_1': { default: [{ limit: 3, windowMs: MIN }] } } };
    const config = validateLimitsConfig(input);
    expect(config).toEqual(input);
    expect(Object.isFrozen(config.overrides['key:k_1'])).toBe(true);
  });
});

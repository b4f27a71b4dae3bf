import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { assertPasswordAcceptable, weakPasswordReasons } from './policy.js';

describe('password policy', () => {
  it('needs 8 to 1024 characters, counted as code points', () => {
    expect(weakPasswordReasons('short')).toEqual(['length']);
    expect(weakPasswordReasons('x'.repeat(1025))).toEqual(['length']);
    expect(weakPasswordReasons('🔐🔐🔐🔐🔐🔐🔐🔐')).toEqual([]);
    expect(weakPasswordReasons('eight ch')).toEqual([]);
  });

  it('refuses the common-password list, whatever the case', () => {
    expect(weakPasswordReasons('Password123')).toEqual(['pwned']);
    expect(weakPasswordReasons('QWERTY123')).toEqual(['pwned']);
  });

  it('throws GoTrue\'s weak_password with reasons for supabase-js', () => {
    try {
      assertPasswordAcceptable('iloveyou');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GatehouseError);
      expect((error as GatehouseError).code).toBe('weak_password');
      expect((error as GatehouseError).details).toMatchObject({ weak_password: { reasons: ['pwned'] } });
    }
  });
});

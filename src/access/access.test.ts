import { describe, expect, it } from 'vitest';
import { bearerOf, createCaller, isOwnRow, presentedKey, type CallerKey } from './index.js';

const pk: CallerKey = { id: 'key_p', kind: 'publishable', projectId: 'p', environment: 'dev', scopes: null };
const sk: CallerKey = { ...pk, id: 'key_s', kind: 'secret' };
const user = (role: string) => ({ id: 'usr_a', role, sessionId: 's', claims: {} });

describe('caller', () => {
  it('a secret key stays admin whatever user rides along; otherwise the user\'s role decides', () => {
    expect(createCaller(sk, null).group).toBe('admin');
    expect(createCaller(sk, user('authenticated')).group).toBe('admin');
    expect(createCaller(pk, null).group).toBe('guest');
    expect(createCaller(pk, user('authenticated')).group).toBe('user');
    expect(createCaller(pk, user('admin')).group).toBe('admin');
  });
});

describe('credentials', () => {
  it('reads only a well-formed bearer', () => {
    expect(bearerOf('Bearer abc.def')).toBe('abc.def');
    expect(bearerOf('bearer   abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('one key from apikey, X-API-Key or a key-shaped bearer; two different keys are refused', () => {
    expect(presentedKey('pk_x', undefined, undefined)).toBe('pk_x');
    expect(presentedKey(undefined, ' sk_y ', 'a.jwt.token')).toBe('sk_y');
    expect(presentedKey('pk_x', 'pk_x', 'pk_x')).toBe('pk_x');
    expect(presentedKey(undefined, undefined, 'a.jwt.token')).toBeUndefined();
    expect(() => presentedKey('pk_x', undefined, 'sk_y')).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => presentedKey('pk_x', 'pk_z', undefined)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});

describe('self', () => {
  it('a row is the signed-in user\'s own when the server stamped its id; a caller without a user owns nothing', () => {
    expect(isOwnRow({ created_by: 'usr_a' }, 'usr_a')).toBe(true);
    expect(isOwnRow({ created_by: 'usr_b' }, 'usr_a')).toBe(false);
    expect(isOwnRow({ created_by: null }, null)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { normaliseIp, resolveSubject, subjectKey } from './subject.js';

const base = { projectId: 'p_1', environment: 'prod', ip: '203.0.113.5' };

describe('limit subjects', () => {
  it('the user wins over the API key, and the key over the IP', () => {
    expect(resolveSubject({ ...base, userId: 'u_1', keyId: 'k_1' })).toEqual({ id: 'user:u_1', key: 'p_1:prod:user:u_1' });
    expect(resolveSubject({ ...base, keyId: 'k_1' })).toEqual({ id: 'key:k_1', key: 'p_1:prod:key:k_1' });
    expect(resolveSubject(base)).toEqual({ id: 'ip:203.0.113.5', key: 'p_1:prod:ip:203.0.113.5' });
  });

  it('every key is scoped to project and environment', () => {
    const keys = new Set([
      subjectKey({ ...base, userId: 'u_1' }),
      subjectKey({ ...base, userId: 'u_1', environment: 'dev' }),
      subjectKey({ ...base, userId: 'u_1', projectId: 'p_2' }),
    ]);
    expect(keys.size).toBe(3);
  });

  it('a colon inside an id cannot forge another environment or kind', () => {
    // Without encoding, project "p_1:prod" in env "x" and project "p_1" in env "prod:x" would collide.
    expect(subjectKey({ ...base, projectId: 'p_1:prod', environment: 'x', userId: 'u' })).not.toBe(
      subjectKey({ ...base, projectId: 'p_1', environment: 'prod:x', userId: 'u' }),
    );
    expect(subjectKey({ ...base, userId: 'a:b' })).not.toBe(subjectKey({ ...base, keyId: 'b', userId: 'a' }));
    expect(subjectKey({ ...base, userId: '{x}' })).not.toMatch(/[{}]/);
  });

  it('ids are taken as the server assigned them: no trimming or case folding', () => {
    expect(subjectKey({ ...base, userId: 'U_1' })).not.toBe(subjectKey({ ...base, userId: 'u_1' }));
    expect(subjectKey({ ...base, userId: ' u_1' })).not.toBe(subjectKey({ ...base, userId: 'u_1' }));
  });

  it('empty ids and non-IPs are programming errors', () => {
    expect(() => resolveSubject({ ...base, userId: '' })).toThrow(TypeError);
    expect(() => resolveSubject({ ...base, projectId: '' })).toThrow(TypeError);
    expect(() => resolveSubject({ ...base, ip: 'not-an-ip' })).toThrow(TypeError);
    expect(() => resolveSubject({ ...base, ip: '' })).toThrow(TypeError);
  });

  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:0102:0304', '1.2.3.4'],
    ['[::ffff:10.0.0.1]', '10.0.0.1'],
    ['2001:DB8:0:0:1:2:3:4', '2001:db8::/64'],
    ['2001:0db8:00ab:0000:ffff:ffff:ffff:ffff', '2001:db8:ab::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['1:0:0:2::', '1:0:0:2::/64'],
    ['1:2:3:4:5:6:7.8.9.10', '1:2:3:4::/64'],
    ['::1', '::/64'],
  ])('normaliseIp(%s) is %s', (input, expected) => {
    expect(normaliseIp(input)).toBe(expected);
  });
});

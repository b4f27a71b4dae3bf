import { describe, expect, it } from 'vitest';
import { checkBucketId, foldersOf, nameProblem } from './paths.js';

describe('object names', () => {
  it.each([
    'a.txt', 'usr_1/photos/cat.png', 'ünïcödé/名前.txt', 'a b/c (1).txt', '.hidden', 'a..b', `${'a'.repeat(1024)}`, '😀/x',
  ])('accepts %s', (name) => expect(nameProblem(name)).toBeNull());

  it.each([
    ['', 'empty'], ['/a', 'empty segment'], ['a/', 'empty segment'], ['a//b', 'empty segment'], ['..', '".."'], ['a/../b', '".."'],
    ['./a', '".."'], ['a\\b', 'backslash'], ['a\u0000b', 'control'], ['a\nb', 'control'], ['a\u007fb', 'control'], ['a\u0085b', 'control'],
    ['a\u2028b', 'control'], ['a\ud800b', 'Unicode'], ['a'.repeat(1025), 'longer'], ['é'.repeat(513), 'longer'], [Array(65).fill('a').join('/'), 'segments'],
  ])('refuses %j', (name, why) => expect(nameProblem(name)).toContain(why));

  it('folder[0]…folder[3] are the first folders, null past the depth', () => {
    expect(foldersOf('a/b/c.txt')).toEqual(['a', 'b', null, null]);
    expect(foldersOf('c.txt')).toEqual([null, null, null, null]);
  });

  it('bucket ids: simple words, none a route word', () => {
    expect(checkBucketId('avatars')).toBe('avatars');
    for (const id of ['public', 'sign', 'a.b', '../x', '', 'x'.repeat(64)]) expect(() => checkBucketId(id)).toThrow();
  });
});

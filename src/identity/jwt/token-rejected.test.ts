import { describe, expect, it } from 'vitest';
import { TokenRejected } from './token-rejected.js';

describe('TokenRejected', () => {
  it('is control flow: a reason and a message, no stack frames, and the stack trace limit left alone', () => {
    const before = Error.stackTraceLimit;
    const rejected = new TokenRejected('bad_signature');
    expect(rejected).toMatchObject({ name: 'TokenRejected', reason: 'bad_signature', message: 'token rejected: bad_signature', external: false });
    expect(rejected).toBeInstanceOf(Error);
    expect(rejected.stack?.split('\n').some((line) => line.trimStart().startsWith('at '))).toBe(false);
    expect(Error.stackTraceLimit).toBe(before);
  });
});

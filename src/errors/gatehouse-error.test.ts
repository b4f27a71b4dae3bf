import { describe, expect, it } from 'vitest';
import { GatehouseError } from './gatehouse-error.js';

const frames = (error: Error) => (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).length;

describe('GatehouseError stacks', () => {
  it('a client error (4xx) carries no stack frames: it is an answer, never logged with one', () => {
    const refused = new GatehouseError('invalid_token', { details: { reason: 'bad_signature' } });
    expect(refused.status).toBe(401);
    expect(frames(refused)).toBe(0);
    // Everything the client and the log see is unchanged.
    expect(refused).toMatchObject({ name: 'GatehouseError', code: 'invalid_token', message: 'The bearer token is not valid.', details: { reason: 'bad_signature' } });
    expect(refused.stack).toContain('GatehouseError');
  });

  it('a server error (5xx), or a 4xx code given a 5xx status, keeps its stack for the log', () => {
    expect(frames(new GatehouseError('unexpected_failure'))).toBeGreaterThan(0);
    expect(frames(new GatehouseError('bad_request', { status: 503 }))).toBeGreaterThan(0);
  });

  it('leaves the process-wide stack trace limit as it found it', () => {
    const before = Error.stackTraceLimit;
    new GatehouseError('invalid_token');
    expect(Error.stackTraceLimit).toBe(before);
    expect(frames(new Error('elsewhere'))).toBeGreaterThan(0);
  });
});

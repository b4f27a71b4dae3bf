import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { deferredChildLoggerFactory } from './request-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('deferred request logger', () => {
  it('builds no pino child for calls below the level', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'warn', destination });
    const child = vi.spyOn(parent, 'child');
    const log = deferredChildLoggerFactory(parent, { reqId: 'r1' }, {});
    log.info({ a: 1 }, 'incoming request');
    log.debug('nothing');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('writes at or above the level with the request binding, still redacted', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'info', destination });
    const log = deferredChildLoggerFactory(parent, { reqId: 'r2' }, {});
    log.warn({ body: { token: 'secret-token-value' }, provider: 'openai' }, 'provider failed');
    log.info('second');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ reqId: 'r2', provider: 'openai', body: { token: '[Redacted]' }, msg: 'provider failed' });
    expect(JSON.stringify(lines)).not.toContain('secret-token-value');
    expect(lines[1]).toMatchObject({ reqId: 'r2', msg: 'second' });
  });

  it('follows a level set on the request logger, and its children keep the binding', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'warn', destination });
    const log = deferredChildLoggerFactory(parent, { reqId: 'r3' }, {});
    expect(log.level).toBe('warn');
    log.level = 'debug';
    log.debug('now visible');
    log.child({ stage: 'x' }).error('from a grandchild');
    expect(parent.level).toBe('warn');
    expect(lines.map((l) => [l.reqId, l.msg, l.stage])).toEqual([['r3', 'now visible', undefined], ['r3', 'from a grandchild', 'x']]);
  });

  it('gives a route with its own level pino\'s child at once', () => {
    const { lines, destination } = capture();
    const parent = createLogger({ level: 'warn', destination });
    const log = deferredChildLoggerFactory(parent, { reqId: 'r4' }, { level: 'info' });
    log.info('route level');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'r4', msg: 'route level' })]);
  });
});

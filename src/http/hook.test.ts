import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { asHook } from './hook.js';

const request = {} as FastifyRequest;
const reply = {} as FastifyReply;

function run(stage: Parameters<typeof asHook>[0]): Promise<{ error: Error | undefined; sync: boolean }> {
  return new Promise((resolve) => {
    let returned = false;
    asHook(stage)(request, reply, (error) => resolve({ error, sync: !returned }));
    returned = true;
  });
}

describe('asHook', () => {
  it('continues at once, without a promise, when the stage finishes synchronously', async () => {
    expect(await run(() => undefined)).toEqual({ error: undefined, sync: true });
  });

  it('passes a thrown error on, synchronously', async () => {
    const boom = new Error('refused');
    expect(await run(() => { throw boom; })).toEqual({ error: boom, sync: true });
  });

  it('waits for a stage that returns a promise, and passes its rejection on', async () => {
    expect(await run(() => new Promise<void>((r) => setImmediate(r)))).toEqual({ error: undefined, sync: false });
    const boom = new Error('later');
    expect(await run(() => Promise.reject(boom))).toEqual({ error: boom, sync: false });
  });

  it('never lets a rejection without an error pass as success', async () => {
    const { error } = await run(() => Promise.reject(undefined));
    expect(error).toBeInstanceOf(Error);
  });
});

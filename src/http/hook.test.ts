import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { asHook, stageChain } from './hook.js';

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

describe('stageChain', () => {
  type Reply = FastifyReply & { sent: boolean };
  function chain(stages: Parameters<typeof stageChain>[0], reply: Reply = { sent: false } as Reply): Promise<{ error: Error | undefined; sync: boolean; called: boolean }> {
    return new Promise((resolve) => {
      let returned = false;
      let called = false;
      stageChain(stages)(request, reply, (error) => {
        called = true;
        resolve({ error, sync: !returned, called });
      });
      returned = true;
      // A chain that stops without calling on (never expected) would leave this pending: the test times out.
    });
  }

  it('runs every stage in order, and calls on synchronously when none waits', async () => {
    const ran: number[] = [];
    expect(await chain([() => { ran.push(1); }, () => { ran.push(2); }, () => { ran.push(3); }])).toEqual({ error: undefined, sync: true, called: true });
    expect(ran).toEqual([1, 2, 3]);
  });

  it('waits for a stage that returns a promise before the next one runs', async () => {
    const ran: string[] = [];
    const result = await chain([
      () => { ran.push('a'); },
      () => new Promise<void>((r) => setImmediate(() => { ran.push('b done'); r(); })),
      () => { ran.push('c'); },
    ]);
    expect(result).toEqual({ error: undefined, sync: false, called: true });
    expect(ran).toEqual(['a', 'b done', 'c']);
  });

  it('stops at a thrown or rejected error, and no later stage runs', async () => {
    const boom = new Error('refused');
    let later = false;
    expect((await chain([() => { throw boom; }, () => { later = true; }])).error).toBe(boom);
    expect((await chain([() => Promise.reject(boom), () => { later = true; }])).error).toBe(boom);
    expect(later).toBe(false);
    expect((await chain([() => Promise.reject(undefined)])).error).toBeInstanceOf(Error);
  });

  it('skips the stages after one that answered, as Fastify skips hooks after a sent reply', async () => {
    const reply = { sent: false } as Reply;
    let later = false;
    const result = await chain([() => { reply.sent = true; }, () => { later = true; }], reply);
    expect(later).toBe(false);
    expect(result).toEqual({ error: undefined, sync: true, called: true });
    // And after one that answered while it waited.
    const waited = { sent: false } as Reply;
    await chain([() => new Promise<void>((r) => setImmediate(() => { waited.sent = true; r(); })), () => { later = true; }], waited);
    expect(later).toBe(false);
  });
});

import type { FastifyReply, FastifyRequest } from 'fastify';

/** A pipeline stage that usually finishes at once and returns a promise only when it must wait. */
export type Stage = (request: FastifyRequest, reply: FastifyReply) => void | Promise<void>;

/**
 * Runs a stage as a Fastify callback hook. Most stages do their work
 * synchronously on the hot path (no Origin header, nothing to wait for); as
 * `async` hooks each still cost a promise and a microtask turn, and a request
 * passes about ten of them.
 */
export function asHook(stage: Stage) {
  return function hook(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    let pending: void | Promise<void>;
    try {
      pending = stage(request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (pending) pending.then(() => done(), (error: unknown) => done(error instanceof Error ? error : new Error(String(error))));
    else done();
  };
}

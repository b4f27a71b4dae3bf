import type { FastifyReply, FastifyRequest } from 'fastify';

/** A pipeline stage that usually finishes at once and returns a promise only when it must wait. */
export type Stage = (request: FastifyRequest, reply: FastifyReply) => void | Promise<void>;

type Done = (error?: Error) => void;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs a stage as a Fastify callback hook. Most stages do their work
 * synchronously on the hot path (no Origin header, nothing to wait for); as
 * `async` hooks each still cost a promise and a microtask turn, and a request
 * passes about ten of them.
 */
export function asHook(stage: Stage) {
  return function hook(request: FastifyRequest, reply: FastifyReply, done: Done): void {
    let pending: void | Promise<void>;
    try {
      pending = stage(request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (pending) pending.then(() => done(), (error: unknown) => done(asError(error)));
    else done();
  };
}

/**
 * Runs several stages, in order, as ONE Fastify callback hook. Each Fastify hook costs its
 * runner's bookkeeping per request, and the onRequest chain has eight stages that nearly always
 * finish synchronously: here they run in a plain loop, and only a stage that returns a promise
 * makes the rest wait for it. Same contract as Fastify's own chain: a thrown or rejected error
 * goes to the error handler and stops the chain; after a stage that answered (a preflight) the
 * rest are skipped, exactly as Fastify skips the hooks after a sent reply.
 */
export function stageChain(stages: readonly Stage[]) {
  const count = stages.length;
  return function runStages(request: FastifyRequest, reply: FastifyReply, done: Done): void {
    runFrom(0);

    function runFrom(first: number): void {
      for (let i = first; i < count; i++) {
        if (reply.sent) break;
        let pending: void | Promise<void>;
        try {
          pending = stages[i]!(request, reply);
        } catch (error) {
          done(error as Error);
          return;
        }
        if (pending) {
          const next = i + 1;
          pending.then(() => runFrom(next), (error: unknown) => done(asError(error)));
          return;
        }
      }
      done();
    }
  };
}

import { GatehouseError } from '../../errors/index.js';

// Who may open one more request to a provider (issue 18). Three counts of requests in flight,
// a stream counting until its last byte:
// - per user (or key) and per project: refused at once (429) past the limit, so one client
//   cannot occupy the provider's connections that every project shares;
// - per provider origin: the real ceiling (connections, file descriptors, the provider's own
//   limit). Taken just before the request goes upstream, once its body is read: a slow upload
//   holds no provider slot. Past it a request waits in a bounded FIFO for at most `queueMs`, then 503.
// undici would queue past its pool silently and without bound, which is how the 257th stream
// used to wait for a whole other stream to end; Gatehouse counts before undici sees a request.
//
// Per instance, in memory, on purpose: a count shared in Redis would cost a round trip on every
// request and need leases to survive an instance that dies holding slots. With N instances the
// effective limits are N times these (docs/llm-proxy.md "Connections and concurrency").
// Hand-written rather than a semaphore package: a counter map and one FIFO are all it needs, and
// the release must be idempotent and cancel a wait, which the small packages do not offer.

export interface AdmissionOptions {
  /** 0 = no limit. */
  perUser: number;
  /** 0 = no limit. */
  perProject: number;
  /** The in-flight ceiling of one origin. */
  perOrigin(origin: string): number;
  /** Milliseconds a request waits for its origin before 503. */
  queueMs: number;
}

export interface AdmitRequest {
  origin: string;
  provider: string;
  /** `user:<id>` or `key:<id>`, unique across projects. */
  subject: string;
  projectId: string;
}

/**
 * A request's place: its user and project counts, taken by `admit`, and its origin slot, taken by
 * `origin()` just before the request goes upstream (so a slow upload never holds a provider slot).
 * `release` gives back all of it, is idempotent, and also ends a wait for the origin still under way.
 */
export interface Ticket {
  /**
   * Takes the origin slot (once): null when it is held at once, else a promise that resolves when
   * it is, or rejects with 503 `upstream_busy` (the origin stayed full for queueMs, or the ticket
   * was released meanwhile). Throws 503 at once when no wait is possible or after `release`.
   */
  origin(): Promise<void> | null;
  /** Whether `release` ran: the request must not go upstream any more. */
  readonly released: boolean;
  release(): void;
}

interface Waiter {
  grant(): void;
  /** Gives up the wait (timed out, or the caller left): the promise is refused with `error`. */
  cancel(error: GatehouseError): void;
}

class OriginGate {
  active = 0;
  readonly waiting: Waiter[] = [];
  constructor(readonly limit: number) {}

  /** Hands a freed slot to the oldest waiter, else frees it. */
  free(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.active--;
  }

  leave(waiter: Waiter): void {
    const at = this.waiting.indexOf(waiter);
    if (at >= 0) this.waiting.splice(at, 1);
  }
}

class Counts {
  readonly #counts = new Map<string, number>();
  constructor(readonly limit: number) {}
  /** Takes one unless at the limit (a limit of 0 never refuses). */
  take(key: string): boolean {
    if (this.limit === 0) return true;
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.limit) return false;
    this.#counts.set(key, count + 1);
    return true;
  }
  give(key: string): void {
    if (this.limit === 0) return;
    const count = (this.#counts.get(key) ?? 1) - 1;
    if (count <= 0) this.#counts.delete(key);
    else this.#counts.set(key, count);
  }
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}

/** The Retry-After of a refusal: a stream typically ends within seconds; 1 s is the header's floor. */
const RETRY_AFTER_S = 1;

/**
 * The Retry-After of a 503 from an origin whose queue was full or waited out: it stayed full for
 * queueMs, so retrying sooner than that would most likely be refused again.
 */
function busyRetryAfterS(queueMs: number): number {
  return Math.max(RETRY_AFTER_S, Math.ceil(queueMs / 1000));
}

export function createAdmission(options: AdmissionOptions) {
  const users = new Counts(options.perUser);
  const projects = new Counts(options.perProject);
  const gates = new Map<string, OriginGate>();
  const gateOf = (origin: string) => {
    let gate = gates.get(origin);
    if (!gate) gates.set(origin, (gate = new OriginGate(options.perOrigin(origin))));
    return gate;
  };

  return {
    /**
     * The user's and project's counts for one request, or 429 `llm_concurrency_exceeded` (their
     * own limit); the origin slot comes later, from `ticket.origin()` (503 `upstream_busy` when
     * the origin stayed full for queueMs). The caller must release the ticket whatever happens
     * next, from the moment it has it: a caller that leaves while waiting ends the wait that way.
     */
    admit(request: AdmitRequest): Ticket {
      if (!users.take(request.subject)) {
        throw concurrencyError(`This user already has ${options.perUser} requests to LLM providers in flight: wait for one to finish.`);
      }
      if (!projects.take(request.projectId)) {
        users.give(request.subject);
        throw concurrencyError(`This project already has ${options.perProject} requests to LLM providers in flight: wait for one to finish.`);
      }
      let held = false; // the origin slot
      let done = false;
      let asked = false;
      let waiter: Waiter | null = null;
      const gate = gateOf(request.origin);
      const busy = () => busyError(request.provider, busyRetryAfterS(options.queueMs));
      const ticket: Ticket = {
        get released() {
          return done;
        },
        release() {
          if (done) return;
          done = true;
          users.give(request.subject);
          projects.give(request.projectId);
          if (held) gate.free();
          else waiter?.cancel(busy());
        },
        origin() {
          if (done || asked) throw busy();
          asked = true;
          if (gate.active < gate.limit) {
            gate.active++;
            held = true;
            return null;
          }
          // Bounded twice: in time (queueMs) and in length (as many waiters as slots).
          if (options.queueMs === 0) {
            ticket.release();
            throw busyError(request.provider, RETRY_AFTER_S);
          }
          if (gate.waiting.length >= gate.limit) {
            ticket.release();
            throw busy();
          }
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => ticket.release(), options.queueMs);
            const self: Waiter = {
              grant() {
                clearTimeout(timer);
                waiter = null;
                held = true;
                resolve();
              },
              cancel(error) {
                clearTimeout(timer);
                waiter = null;
                gate.leave(self);
                reject(error);
              },
            };
            waiter = self;
            gate.waiting.push(self);
          });
        },
      };
      return ticket;
    },
    /** Requests in flight now (tests, metrics). */
    inFlight(what: { origin?: string; subject?: string; projectId?: string }): number {
      if (what.origin !== undefined) return gates.get(what.origin)?.active ?? 0;
      if (what.subject !== undefined) return users.get(what.subject);
      return projects.get(what.projectId ?? '');
    },
  };
}

export type Admission = ReturnType<typeof createAdmission>;

function concurrencyError(message: string): GatehouseError {
  return new GatehouseError('llm_concurrency_exceeded', { message, retryAfterS: RETRY_AFTER_S });
}

function busyError(provider: string, retryAfterS: number): GatehouseError {
  return new GatehouseError('upstream_busy', {
    message: `Every connection Gatehouse may open to the provider ${provider} is in use: retry shortly.`,
    retryAfterS,
  });
}

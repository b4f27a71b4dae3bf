import type { Logger } from 'pino';

// A backing service that goes down fails every request until it is back, and reconnect attempts
// fail every few hundred ms: logging each would bury the one line that matters. This logs the
// transitions only — the first failure (with its cause) and the recovery — so an outage is two
// lines whatever the traffic. `outage_ms` is a duration measured for the log line, not "now":
// performance.now is monotonic, so a wall-clock step during an outage cannot make it negative.

export interface OutageLog {
  /** A failure that means the service is unreachable; logged only when it was up. */
  down(cause: unknown): void;
  /** A success; logs the recovery when it was down. */
  up(): void;
  readonly isDown: boolean;
}

/** `what` names the service in the log, e.g. "database" or "rate-limit Redis". */
export function createOutageLog(logger: Logger | undefined, what: string): OutageLog {
  let down = false;
  let since = 0;
  return {
    down(cause) {
      if (down) return;
      down = true;
      since = performance.now();
      logger?.error({ err: describe(cause) }, `${what} unavailable`);
    },
    up() {
      if (!down) return;
      down = false;
      logger?.info({ outage_ms: Math.round(performance.now() - since) }, `${what} available again`);
    },
    get isDown() {
      return down;
    },
  };
}

// The message and code only: a driver error can carry the query text and its bound values.
function describe(cause: unknown): { message: string; code?: string } {
  const error = cause as { message?: unknown; code?: unknown } | null;
  return {
    message: typeof error?.message === 'string' ? error.message : String(cause),
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
  };
}

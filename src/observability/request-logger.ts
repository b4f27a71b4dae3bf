import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';

type LogMethod = (...args: unknown[]) => void;
const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * A request's logger, made real on first use. Fastify gives every request a
 * pino child bound to its id, and pino builds a child eagerly (serialized
 * bindings, redaction, a new prototype): a few microseconds per request that
 * most requests never use, since they log nothing at the configured level.
 * A call below the level here costs one comparison and builds nothing.
 */
class DeferredChildLogger {
  #real: Logger | null = null;
  constructor(private readonly parent: Logger, private readonly bindings: Bindings) {}

  private real(): Logger {
    return (this.#real ??= this.parent.child(this.bindings));
  }

  write(level: Level, args: unknown[]): void {
    if (!(this.#real ?? this.parent).isLevelEnabled(level)) return;
    const real = this.real();
    (real[level] as LogMethod).apply(real, args);
  }

  get level(): string {
    return (this.#real ?? this.parent).level;
  }

  set level(value: string) {
    this.real().level = value;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  silent(): void {}
}

for (const level of LEVELS) {
  Object.defineProperty(DeferredChildLogger.prototype, level, {
    value: function log(this: DeferredChildLogger, ...args: unknown[]): void {
      this.write(level, args);
    },
  });
}

/** Fastify's `childLoggerFactory`: per-route levels or serializers get pino's own child at once. */
export function deferredChildLoggerFactory(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return parent.child(bindings, options);
  return new DeferredChildLogger(parent as Logger, bindings) as unknown as FastifyBaseLogger;
}

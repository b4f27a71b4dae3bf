import type { Logger } from 'pino';

// The one background writer. Bookkeeping that must not cost the request path a database write
// (LLM usage, token counters without Redis, the LLM request log, security events) is queued in
// memory and stored in batches: every `intervalMs`, early once a buffer holds `maxBatch` entries,
// and on close. One module owns the buffer, the timer, the batch limit, the order of writes, the
// memory bound and the error handling, so every feature gets the same guarantees:
//
//   - a request only touches a Map (aggregating into an entry in place allocates nothing);
//   - writes of one buffer run one batch at a time, in order, so totals never race each other;
//   - a failed batch is logged (by name, never with its content) and dropped: bookkeeping must
//     not take the server down or grow memory without bound while the database is away;
//   - with `maxBytes`, entries past the bound are dropped and counted, and the count is logged
//     with the next batch, so a slow database cannot exhaust memory;
//   - flush() resolves once everything queued before it is stored (admin reads, tests, shutdown);
//     close() stops the timer and flushes. The deps start and stop it, so a CLI run or a test
//     leaves no timer behind.
//
// The timer is a real one, not the injected clock: it paces database writes, and a test that
// freezes time must still see them (or calls flush()).

export interface WriteBehindBuffer<V> {
  /** The entry queued under `key`, if any: aggregate into it in place. */
  get(key: string): V | undefined;
  /** The entry of the batch being written now, if any (a reader adds it to what the database says). */
  writing(key: string): V | undefined;
  /** Queues `value` under `key`. False when `maxBytes` is reached: the entry is dropped and counted. */
  put(key: string, value: V, bytes?: number): boolean;
  /** Resolves once everything queued before the call is stored (or failed and logged). */
  flush(): Promise<void>;
}

export interface BufferOptions<V> {
  /** Names the data in log lines: "could not store <name>". */
  name: string;
  /** Names the buffer in metrics (`gatehouse_buffer_depth{buffer}`): a short snake_case id. */
  metricsId?: string;
  /** Stores one batch; throwing drops it (logged). */
  write(batch: ReadonlyMap<string, V>): Promise<void>;
  /** Entries that start a flush at once. Default: only the timer flushes. */
  maxBatch?: number;
  /** Bytes (as given to put) that may wait; past it, entries are dropped. Default: unbounded. */
  maxBytes?: number;
  /** Runs when a batch is stored or failed, in the same tick as it stops being `writing`. */
  settled?(batch: ReadonlyMap<string, V>): void;
}

export interface WriteBehind {
  buffer<V>(options: BufferOptions<V>): WriteBehindBuffer<V>;
  /** Starts the timer (idempotent). */
  start(): void;
  /** Flushes every buffer. */
  flush(): Promise<void>;
  /** Stops the timer and stores what is left. */
  close(): Promise<void>;
  /** Each buffer's entries waiting and entries lost so far (read at a metrics scrape). */
  stats(): BufferStats[];
}

export interface BufferStats {
  buffer: string;
  depth: number;
  /** Over the memory bound, or in a batch whose write failed; since start. */
  droppedTotal: number;
}

type Buffer<V> = WriteBehindBuffer<V> & { stats(): BufferStats };

export function createWriteBehind({ intervalMs, logger }: { intervalMs: number; logger: Pick<Logger, 'error' | 'warn'> }): WriteBehind {
  if (!(intervalMs > 0)) throw new TypeError('createWriteBehind: intervalMs must be positive');
  const buffers: Array<Buffer<unknown>> = [];
  let timer: NodeJS.Timeout | null = null;

  const flushAll = async () => {
    await Promise.all(buffers.map((b) => b.flush()));
  };

  return {
    buffer<V>(options: BufferOptions<V>): WriteBehindBuffer<V> {
      const buffer = createBuffer(options, logger);
      buffers.push(buffer as Buffer<unknown>);
      return buffer;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => void flushAll(), intervalMs);
      timer.unref();
    },
    flush: flushAll,
    stats: () => buffers.map((b) => b.stats()),
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      await flushAll();
    },
  };
}

function createBuffer<V>(options: BufferOptions<V>, logger: Pick<Logger, 'error' | 'warn'>): Buffer<V> {
  const { name, write, maxBatch = Number.POSITIVE_INFINITY, maxBytes = Number.POSITIVE_INFINITY, settled } = options;
  const metricsId = options.metricsId ?? name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  let pending = new Map<string, V>();
  let pendingBytes = 0;
  let dropped = 0;
  let droppedTotal = 0;
  let writing: ReadonlyMap<string, V> | null = null;
  let chain: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (pending.size === 0 && dropped === 0) return chain;
    const batch = pending;
    const lost = dropped;
    pending = new Map();
    pendingBytes = 0;
    dropped = 0;
    chain = chain.then(async () => {
      // Counts only: a log line must never carry what the entries hold.
      if (lost > 0) logger.warn({ dropped: lost }, `${name} dropped: too many waiting to be stored`);
      if (batch.size === 0) return;
      writing = batch;
      try {
        await write(batch);
      } catch (error) {
        droppedTotal += batch.size;
        logger.error({ err: error }, `could not store ${name}`);
      } finally {
        writing = null;
        settled?.(batch);
      }
    });
    return chain;
  }

  return {
    get: (key) => pending.get(key),
    writing: (key) => writing?.get(key),
    put(key, value, bytes = 0) {
      if (pendingBytes + bytes > maxBytes) {
        dropped += 1;
        droppedTotal += 1;
        return false;
      }
      pending.set(key, value);
      pendingBytes += bytes;
      if (pending.size >= maxBatch) void flush();
      return true;
    },
    flush,
    stats: () => ({ buffer: metricsId, depth: pending.size, droppedTotal }),
  };
}

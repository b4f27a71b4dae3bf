import { describe, expect, it, vi } from 'vitest';
import { createWriteBehind } from './write-behind.js';

function recordingLogger() {
  const lines: Array<{ level: 'error' | 'warn'; obj: unknown; msg: string }> = [];
  return {
    lines,
    error: (obj: unknown, msg: string) => void lines.push({ level: 'error', obj, msg }),
    warn: (obj: unknown, msg: string) => void lines.push({ level: 'warn', obj, msg }),
  };
}

/** A writer whose timer never fires within a test: only flush(), maxBatch and close() write. */
const quietWriter = (logger = recordingLogger()) => createWriteBehind({ intervalMs: 60_000, logger: logger as never });

describe('write-behind', () => {
  it('aggregates in place and stores one batch per flush, in order, one batch at a time', async () => {
    const writer = quietWriter();
    const stored: Array<Array<[string, number]>> = [];
    let running = 0;
    const buffer = writer.buffer<{ n: number }>({
      name: 'counts',
      async write(batch) {
        running++;
        expect(running).toBe(1); // never two batches of one buffer at once
        await new Promise((r) => setImmediate(r));
        stored.push([...batch].map(([k, v]) => [k, v.n]));
        running--;
      },
    });
    buffer.put('a', { n: 1 });
    buffer.get('a')!.n += 4;
    buffer.put('b', { n: 2 });
    const first = buffer.flush();
    buffer.put('a', { n: 7 });
    const second = buffer.flush();
    await second;
    await first;
    expect(stored).toEqual([[['a', 5], ['b', 2]], [['a', 7]]]);
  });

  it('a full batch starts a flush at once, without waiting for the timer', async () => {
    const writer = quietWriter();
    const sizes: number[] = [];
    const buffer = writer.buffer<number>({ name: 'rows', maxBatch: 3, write: async (batch) => void sizes.push(batch.size) });
    for (let i = 0; i < 7; i++) buffer.put(String(i), i);
    await buffer.flush();
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('past the byte bound entries are dropped, counted and logged by number only', async () => {
    const logger = recordingLogger();
    const writer = quietWriter(logger);
    const stored: string[] = [];
    const buffer = writer.buffer<string>({ name: 'entries', maxBytes: 10, write: async (batch) => void stored.push(...batch.values()) });
    expect(buffer.put('1', 'secret-a', 6)).toBe(true);
    expect(buffer.put('2', 'secret-b', 6)).toBe(false);
    expect(buffer.put('3', 'secret-c', 4)).toBe(true);
    await buffer.flush();
    expect(stored).toEqual(['secret-a', 'secret-c']);
    expect(logger.lines).toEqual([{ level: 'warn', obj: { dropped: 1 }, msg: 'entries dropped: too many waiting to be stored' }]);
    expect(JSON.stringify(logger.lines)).not.toContain('secret');
  });

  it('a failed batch is logged and dropped; the next one is stored; settled runs either way', async () => {
    const logger = recordingLogger();
    const writer = quietWriter(logger);
    let fail = true;
    const stored: number[] = [];
    const settled: number[] = [];
    const buffer = writer.buffer<number>({
      name: 'totals',
      async write(batch) {
        if (fail) throw new Error('database down');
        stored.push(...batch.values());
      },
      settled: (batch) => void settled.push(...batch.values()),
    });
    buffer.put('x', 1);
    await buffer.flush();
    fail = false;
    buffer.put('y', 2);
    await buffer.flush();
    expect(stored).toEqual([2]);
    expect(settled).toEqual([1, 2]);
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([['error', 'could not store totals']]);
  });

  it('stats() shows each buffer\'s entries waiting and the running total lost, over the bound or in a failed batch', async () => {
    const writer = quietWriter();
    let fail = true;
    const bounded = writer.buffer<string>({ name: 'LLM request log entries', metricsId: 'request_log', maxBytes: 10, write: async () => {} });
    const failing = writer.buffer<number>({ name: 'security events', async write() { if (fail) throw new Error('database down'); } });
    bounded.put('1', 'a', 6);
    bounded.put('2', 'b', 6);
    failing.put('x', 1);
    failing.put('y', 2);
    expect(writer.stats()).toEqual([
      { buffer: 'request_log', depth: 1, droppedTotal: 1 },
      { buffer: 'security_events', depth: 2, droppedTotal: 0 },
    ]);
    await writer.flush();
    fail = false;
    failing.put('z', 3);
    await writer.flush();
    // Totals only grow: a scrape adds what was lost since the one before.
    expect(writer.stats()).toEqual([
      { buffer: 'request_log', depth: 0, droppedTotal: 1 },
      { buffer: 'security_events', depth: 0, droppedTotal: 2 },
    ]);
  });

  it('the batch being written stays readable until it is stored', async () => {
    const writer = quietWriter();
    let release!: () => void;
    const buffer = writer.buffer<number>({ name: 'tokens', write: () => new Promise<void>((r) => { release = r; }) });
    buffer.put('k', 5);
    const flushing = buffer.flush();
    await new Promise((r) => setImmediate(r));
    expect(buffer.get('k')).toBeUndefined();
    expect(buffer.writing('k')).toBe(5);
    release();
    await flushing;
    expect(buffer.writing('k')).toBeUndefined();
  });

  it('the timer stores on its own once started, and close() stores what is left', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const writer = createWriteBehind({ intervalMs: 500, logger: recordingLogger() as never });
      const stored: number[] = [];
      const buffer = writer.buffer<number>({ name: 'n', write: async (batch) => void stored.push(...batch.values()) });
      buffer.put('a', 1);
      await vi.advanceTimersByTimeAsync(500);
      expect(stored).toEqual([]); // not started: nothing runs by itself
      writer.start();
      await vi.advanceTimersByTimeAsync(499);
      expect(stored).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(stored).toEqual([1]);
      buffer.put('b', 2);
      await writer.close();
      expect(stored).toEqual([1, 2]);
      expect(vi.getTimerCount()).toBe(0); // close() left no timer behind
    } finally {
      vi.useRealTimers();
    }
  });
});

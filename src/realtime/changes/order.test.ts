// One table's changes go out in sequence order whatever order they arrive in; a gap that never
// closes is given up after the wait; duplicates and stale numbers are dropped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommitOrder } from './order.js';

describe('commit order', () => {
  afterEach(() => vi.useRealTimers());

  it('holds an early change until the one before it arrives', () => {
    const out: number[] = [];
    const order = new CommitOrder<{ seq: number }>((m) => out.push(m.seq), 1_000);
    for (const seq of [10, 12, 13, 11, 11, 9, 14]) order.accept({ seq });
    expect(out).toEqual([10, 11, 12, 13, 14]);
    order.close();
  });

  it('gives up a gap after the wait and goes on in order', () => {
    vi.useFakeTimers();
    const out: number[] = [];
    const order = new CommitOrder<{ seq: number }>((m) => out.push(m.seq), 1_000);
    order.accept({ seq: 1 });
    order.accept({ seq: 4 });
    order.accept({ seq: 3 });
    expect(out).toEqual([1]);
    vi.advanceTimersByTime(999);
    expect(out).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(out).toEqual([1, 3, 4]);
    // The late one is dropped: it would break the order already delivered.
    order.accept({ seq: 2 });
    order.accept({ seq: 5 });
    expect(out).toEqual([1, 3, 4, 5]);
    order.close();
  });
});

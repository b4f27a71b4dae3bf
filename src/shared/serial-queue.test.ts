import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks in order, one at a time, and refuses a task over its bound until one finishes', async () => {
    const errors: unknown[] = [];
    const queue = new SerialQueue(3, (e) => errors.push(e));
    const ran: number[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => { release = r; });
    expect(queue.push(async () => { await blocked; ran.push(1); })).toBe(true);
    expect(queue.push(() => { throw new Error('boom'); })).toBe(true);
    expect(queue.push(() => { ran.push(3); })).toBe(true);
    expect(queue.push(() => { ran.push(4); })).toBe(false);
    expect(queue.pending).toBe(3);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    expect(queue.pending).toBe(0);
    expect(queue.push(() => { ran.push(5); })).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).toEqual([1, 3, 5]);
  });
});

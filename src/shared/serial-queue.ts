/**
 * Tasks run one after the other, with at most `max` waiting or running: `push` says false (and
 * drops the task) when it is full, so a producer faster than the tasks cannot grow memory without
 * end. A task that throws is passed to `onError`; the next one still runs. Hand-written: a dozen
 * lines, and the libraries that do this (p-queue) bring more than the bound we need.
 */
export class SerialQueue {
  private chain: Promise<void> = Promise.resolve();
  private count = 0;

  constructor(private readonly max: number, private readonly onError: (error: unknown) => void) {}

  /** Tasks waiting or running. */
  get pending(): number {
    return this.count;
  }

  push(task: () => Promise<void> | void): boolean {
    if (this.count >= this.max) return false;
    this.count += 1;
    this.chain = this.chain.then(task).catch(this.onError).finally(() => { this.count -= 1; });
    return true;
  }
}

// Puts one table's changes back in commit order. The bus may reorder them (two instances publish
// at once; a publish is not awaited by the write), but each carries its table's sequence number,
// which has no gaps. A change arriving early waits for the ones before it; a gap that stays open
// (its publisher died between commit and publish, or the bus dropped it during an outage) is
// given up after `gapWaitMs`, and the waiting changes go out in order.

export interface Sequenced {
  seq: number;
}

/** Changes waiting for a gap to close, at most: past this the gap is given up at once. */
const MAX_WAITING = 10_000;

export class CommitOrder<T extends Sequenced> {
  #next: number | null = null;
  readonly #waiting = new Map<number, T>();
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly emit: (item: T) => void, private readonly gapWaitMs: number) {}

  accept(item: T): void {
    // The first change seen starts the count: this instance has no past to wait for.
    if (this.#next === null) this.#next = item.seq;
    if (item.seq < this.#next || this.#waiting.has(item.seq)) return; // already delivered, or a duplicate
    this.#waiting.set(item.seq, item);
    this.#drain();
    if (this.#waiting.size > MAX_WAITING) this.#skipGap();
    else if (this.#waiting.size > 0 && !this.#timer) {
      // A real timer, not the app's clock: it waits for real messages.
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#skipGap();
      }, this.gapWaitMs);
      this.#timer.unref();
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waiting.clear();
  }

  #drain(): void {
    let item = this.#waiting.get(this.#next!);
    while (item) {
      this.#waiting.delete(this.#next!);
      this.#next! += 1;
      this.emit(item);
      item = this.#waiting.get(this.#next!);
    }
    if (this.#waiting.size === 0 && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #skipGap(): void {
    if (this.#waiting.size === 0) return;
    this.#next = Math.min(...this.#waiting.keys());
    this.#drain();
    if (this.#waiting.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#skipGap();
      }, this.gapWaitMs);
      this.#timer.unref();
    }
  }
}

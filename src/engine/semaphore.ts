/**
 * Counts rows in flight for one eval. The data loop acquires before it pulls the next row, which is what keeps a
 * million-row async generator from being read ahead of the work.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.active;
  }

  acquire(): Promise<void> | undefined {
    if (this.active < this.max) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  /** Lets every waiter through (when stopping); they must check why they woke. */
  releaseAll(): void {
    for (const next of this.waiters.splice(0)) {
      this.active++;
      next();
    }
  }
}

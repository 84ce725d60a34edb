import type { RowResult } from "./types.js";

/**
 * A row cut off by its timeout is recorded at once, but its slot of maxConcurrency and the global cap is given back
 * only when its hold settles: its task (ignoring its signal) may still have a call in flight, and the caps are what
 * keeps a provider's rate limit. Kept beside the result, not on it: results are stored and sent between threads as
 * data.
 */
const holds = new WeakMap<RowResult, Promise<void>>();

export function holdSlot(result: RowResult, until: Promise<void>): void {
  holds.set(result, until);
}

export function slotHeld(result: RowResult | undefined): Promise<void> | undefined {
  return result === undefined ? undefined : holds.get(result);
}

/**
 * Settles when `work` does, after `limitMs` at most, or at `stop`: the bound keeps a task that never settles from
 * holding its slot for good. Its timer keeps the process alive (the next row waits on it: an unref'd one let a
 * stall be taken for a data source that never settles); the CLI exits when the run ends all the same.
 */
export function settledWithin(work: Promise<unknown>, limitMs: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(), limitMs);
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    };
    if (stop.aborted) return done();
    stop.addEventListener("abort", done, { once: true });
    work.then(done, done);
  });
}

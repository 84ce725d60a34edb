import type { RowResult } from "./types.js";

/**
 * A row cut off by its timeout is recorded at once, but its slot of maxConcurrency and the global cap is given back
 * only when its hold settles: its task (ignoring its signal) may still have a call in flight, and the caps are what
 * keeps a provider's rate limit. Kept beside the result, not on it: results are stored and sent between threads as
 * data.
 */
const holds = new WeakMap<RowResult, { until: Promise<void>; work: Promise<unknown> | undefined }>();

/** `work`, where known, is the late task itself: a thread says when it settles (its thread is watched till then). */
export function holdSlot(result: RowResult, until: Promise<void>, work?: Promise<unknown>): void {
  holds.set(result, { until, work });
}

export function slotHeld(result: RowResult | undefined): Promise<void> | undefined {
  return result === undefined ? undefined : holds.get(result)?.until;
}

/** The task and scorers a timed-out row left running, while they run. */
export function lateWork(result: RowResult | undefined): Promise<unknown> | undefined {
  return result === undefined ? undefined : holds.get(result)?.work;
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

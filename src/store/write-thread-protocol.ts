import type { EncodedRows } from "./row-encoding.js";

/**
 * What the main thread and the store's writer thread share. Each experiment written through the thread has a
 * lane: its batches go in order over one message port, and the thread answers in a shared Int32Array, which the
 * main thread can read, and wait on, without running its event loop.
 */

/** Experiments one thread writes at once. */
export const LANES = 64;

/** Int32 slots: the thread's state, then three a lane (see laneSlot). */
export const SHARED_INTS = 1 + 3 * LANES;

export const THREAD_STATE = 0;
/** Starting: nothing is posted to it yet, and writers go on inserting in the main thread. */
export const THREAD_STARTING = 0;
/** The store is open and batches are written as they come. */
export const THREAD_READY = 3;
/** The thread could not open the store, or failed outside any batch: what it has not committed, it never will. */
export const THREAD_DEAD = 1;
/** The thread closed its connection on request. */
export const THREAD_SHUT = 2;

/** A lane's slots: a version bumped at every change (what the main thread waits on), batches committed, state. */
export const laneSlot = (lane: number) => 1 + 3 * lane;
export const COMMITTED = 1;
export const STATE = 2;

export const LANE_OPEN = 0;
/**
 * A batch failed (or its commit did); the thread writes nothing more of this lane, and the main thread inserts the
 * lane's uncommitted batches itself, where a failure is kept and reported as it is without the thread.
 */
export const LANE_FAILED = 1;
/** Every batch posted before the lane's close is committed. */
export const LANE_CLOSED = 2;

export type ToThread =
  | ({ lane: number; seq: number } & Pick<EncodedRows, "count" | "values" | "blobs">)
  | { lane: number; close: true }
  | { shutdown: true };

export interface WriteThreadData {
  location: string;
  shared: SharedArrayBuffer;
  port: import("node:worker_threads").MessagePort;
}

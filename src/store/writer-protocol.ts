import type { SinkOutcome } from "./comparer.js";
import type { EncodedRows } from "./row-encoding.js";

/** What the main thread tells the writer thread. */
export type ToWriter =
  | { type: "open"; seq: number; baseline: number | null }
  | { type: "rows"; seq: number; batch: EncodedRows }
  | { type: "finish"; seq: number; request: number }
  | { type: "close"; request: number };

/** What the writer thread answers. */
export type FromWriter =
  | { type: "finished"; request: number; outcome: SinkOutcome }
  | { type: "failed"; request: number; message: string }
  | { type: "closed"; request: number };

export interface WriterData {
  file: string;
  /** Int32 slots: [batches posted and not yet written, 1 once the thread has stopped for good]. */
  shared: SharedArrayBuffer;
}

export const IN_FLIGHT = 0;
export const STOPPED = 1;

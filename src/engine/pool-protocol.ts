import type { MessagePort } from "node:worker_threads";
import type { WorkItem } from "./row.js";
import type { RowError, RowResult } from "./types.js";

/** What a worker needs to find an eval: the bundle to import and the name it registers under. */
export interface EvalAddress {
  /** Identifies the eval within the run (its name; names are unique in a run). */
  key: string;
  bundle: string;
  /** How long the main thread took to import the bundle (ms), to judge a worker thread's import by. */
  loadMs: number | undefined;
  /** The source file, attributed to registrations as in the main thread. */
  file: string | undefined;
  name: string;
  timeout: number | undefined;
  scorerNames: string[];
}

/** Main thread → worker session. */
export type ToWorker =
  | { t: "eval"; address: EvalAddress }
  | { t: "items"; items: Array<[id: number, evalKey: string, item: WorkItem]> }
  | { t: "stop" }
  | { t: "close" };

/** Worker session → main thread. */
export type FromWorker =
  /** `held`: the row timed out and its task runs on, so its slot stays taken until a `settled` names it. */
  | { t: "results"; results: Array<[id: number, result: RowResult | null, held?: true]> }
  /** Timed-out rows whose tasks have now settled: their slots are free, and they can no longer block the thread. */
  | { t: "settled"; ids: number[] }
  /** The eval could not be loaded in the worker (its file throws there, or it does not register). */
  | { t: "load-error"; evalKey: string; message: string }
  /** An error from user code that no row could be blamed for (it escaped after its row finished). */
  | { t: "stray"; error: RowError }
  /**
   * Sent every 100 ms while the thread's event loop turns: silence past a row's timeout means it is blocked.
   * `idle` names the pending rows when the thread has had nothing to wait on for a while (see worker.ts).
   */
  | { t: "alive"; idle?: number[] }
  /** Importing an eval file (its top-level code may run long, and is no row's time): starts, then ends. */
  | { t: "loading"; on: boolean; bundle: string };

/** The task each pool thread runs: one session for the whole run. */
export interface SessionTask {
  port: MessagePort;
  /** Before loading user code: EVALRUN_* and the user's environment are already in process.env. */
  sourceMaps: boolean;
}

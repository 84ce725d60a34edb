import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { MessagePort, Worker } from "node:worker_threads";
import { ownPackageRoot } from "../util/own-package.js";
import type { EncodedRows } from "./row-encoding.js";
import {
  COMMITTED,
  LANE_CLOSED,
  LANE_FAILED,
  LANE_OPEN,
  LANES,
  laneSlot,
  SHARED_INTS,
  STATE,
  THREAD_READY,
  THREAD_STARTING,
  THREAD_STATE,
  type ToThread,
  type WriteThreadData,
} from "./write-thread-protocol.js";

const require = createRequire(import.meta.url);

/** How long a wait goes on with no sign of the thread (no commit, no failure) before the thread is given up. */
const GIVE_UP_MS = 30_000;

/** One experiment's batches on their way to the writer thread, in order. */
export interface Lane {
  /** The thread has opened the store: until then a writer goes on inserting in its own thread. */
  ready(): boolean;
  post(batch: EncodedRows): void;
  /** Batches committed so far, of those posted. */
  committed(): number;
  /** Blocks until `n` batches are committed; false when the lane failed or the thread is gone first. */
  waitFor(n: number): boolean;
  /**
   * Ends the lane once what was posted is committed (true) or the lane failed (false: the main thread inserts
   * what was not committed). Either way nothing more may be posted.
   */
  close(): boolean;
}

const threads = new Map<string, WriteThread>();

/**
 * The store's writer thread: started the first time an experiment of a store has enough rows to be worth it,
 * then shared by every experiment of that store in the process until the store closes. Set
 * EVALRUN_WRITER_THREAD=0 to write every row in the main thread instead.
 */
export class WriteThread {
  private readonly flags = new Int32Array(new SharedArrayBuffer(SHARED_INTS * 4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly free = Array.from({ length: LANES }, (_, i) => LANES - 1 - i);
  private gone = false;

  private constructor(location: string, file: string) {
    const { Worker, MessageChannel } = require("node:worker_threads") as typeof import("node:worker_threads");
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: WriteThreadData = { location, shared: this.flags.buffer as SharedArrayBuffer, port: port2 };
    // The thread receives every new blob's text (100 MB for W4's first run) and is mostly inside SQLite, so its
    // young generation filled to V8's default before a scavenge: a smaller one kept that run's peak RSS at ~187 MiB
    // instead of ~210, at no measured cost in time.
    this.worker = new Worker(file, {
      workerData: data,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker.unref();
    // Seen only when the main thread's event loop runs; a wait notices a dead thread by its flags, or gives up.
    this.worker.on("error", () => {
      this.gone = true;
    });
    this.worker.on("exit", () => {
      this.gone = true;
    });
  }

  /** The writer thread of a store file, started when needed; undefined when it cannot (or should not) be used. */
  static for(location: string): WriteThread | undefined {
    if (location === ":memory:" || location === "" || process.env.EVALRUN_WRITER_THREAD === "0")
      return undefined;
    let thread = threads.get(location);
    if (thread?.alive()) return thread;
    const file = path.join(ownPackageRoot(), "dist", "store-writer.js");
    if (!existsSync(file)) return undefined;
    thread = new WriteThread(location, file);
    threads.set(location, thread);
    return thread;
  }

  /** Closes the connection of each writer thread (theirs first, so the main thread's close checkpoints the WAL). */
  static shutdown(location: string): void {
    const thread = threads.get(location);
    if (!thread) return;
    threads.delete(location);
    if (!thread.alive()) return;
    // Batches are posted only once the thread is ready: one still starting has none, so it need not be waited for.
    if (Atomics.load(thread.flags, THREAD_STATE) === THREAD_STARTING) {
      thread.gone = true;
      void thread.worker.terminate();
      return;
    }
    thread.send({ shutdown: true });
    thread.until(
      0,
      () => !thread.alive(),
      () => false,
    );
  }

  /** A lane for an experiment, or undefined when all are taken (its rows are then written in the main thread). */
  lane(seq: number): Lane | undefined {
    const lane = this.free.pop();
    if (lane === undefined || !this.alive()) return undefined;
    const at = laneSlot(lane);
    const flags = this.flags;
    Atomics.store(flags, at + COMMITTED, 0);
    Atomics.store(flags, at + STATE, LANE_OPEN);
    let closed = false;
    let used = false;
    const committed = () => Atomics.load(flags, at + COMMITTED);
    return {
      ready: () => this.alive() && Atomics.load(flags, THREAD_STATE) === THREAD_READY,
      post: (batch) => {
        used = true;
        this.send({ lane, seq, count: batch.count, values: batch.values, blobs: batch.blobs });
      },
      committed,
      waitFor: (n) => this.until(lane, () => committed() >= n),
      close: () => {
        if (closed) return Atomics.load(flags, at + STATE) === LANE_CLOSED;
        closed = true;
        // The thread knows a lane from its first batch on: one that never got any is simply free again.
        if (!used) {
          this.free.push(lane);
          return true;
        }
        this.send({ lane, close: true });
        const ok = this.until(lane, () => Atomics.load(flags, at + STATE) === LANE_CLOSED);
        // A failed lane is not reused: the thread may still be reading its last messages.
        if (ok) this.free.push(lane);
        return ok;
      },
    };
  }

  private alive(): boolean {
    const state = Atomics.load(this.flags, THREAD_STATE);
    return !this.gone && (state === THREAD_READY || state === THREAD_STARTING);
  }

  private send(message: ToThread): void {
    if (this.alive()) this.port.postMessage(message);
  }

  /**
   * Blocks until `done()`; false when `failed()` (by default: the lane failed or the thread is gone), or when
   * nothing moves for GIVE_UP_MS.
   */
  private until(
    lane: number,
    done: () => boolean,
    failed = () => Atomics.load(this.flags, laneSlot(lane) + STATE) === LANE_FAILED || !this.alive(),
  ): boolean {
    const at = laneSlot(lane);
    let idle = 0;
    for (;;) {
      const version = Atomics.load(this.flags, at);
      if (done()) return true;
      if (failed()) return false;
      idle = Atomics.wait(this.flags, at, version, 100) === "timed-out" ? idle + 100 : 0;
      if (idle >= GIVE_UP_MS) {
        this.gone = true;
        void this.worker.terminate();
        return false;
      }
    }
  }
}

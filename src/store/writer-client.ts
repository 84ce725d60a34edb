import { Worker } from "node:worker_threads";
import type { RowResult } from "../engine/types.js";
import type { SinkOutcome } from "./comparer.js";
import type { EvalSink } from "./eval-sink.js";
import { encodeRows, SentBlobs } from "./row-encoding.js";
import { MAX_BATCH } from "./rows.js";
import { type FromWriter, IN_FLIGHT, STOPPED, type ToWriter, type WriterData } from "./writer-protocol.js";

/**
 * Batches posted and not yet written, at most. Past it the main thread waits for the writer: memory stays bounded
 * when rows finish faster than SQLite takes them, and a kill -9 loses at most these batches.
 */
const MAX_IN_FLIGHT = 8;

/**
 * The main thread's side of the writer thread: one thread per run and store file, shared by every eval. Rows are
 * encoded here (JSON, blob digests) and inserted there, with the comparison against the baseline.
 */
export class WriterThread {
  private readonly worker: Worker;
  private readonly slots: Int32Array;
  private readonly waiting = new Map<number, (reply: FromWriter) => void>();
  private nextRequest = 0;
  private exited: Error | undefined;
  readonly sent = new SentBlobs();

  constructor(file: string, entry: string) {
    const shared = new SharedArrayBuffer(8);
    this.slots = new Int32Array(shared);
    const data: WriterData = { file, shared };
    this.worker = new Worker(entry, { workerData: data });
    this.worker.on("message", (reply: FromWriter) => {
      const resolve = this.waiting.get(reply.request);
      this.waiting.delete(reply.request);
      resolve?.(reply);
    });
    const fail = (error: Error) => {
      this.exited ??= error;
      for (const [request, resolve] of this.waiting)
        resolve({ type: "failed", request, message: error.message });
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", () => fail(new Error("the store writer thread stopped")));
  }

  post(message: ToWriter): void {
    if (this.exited) throw this.exited;
    this.worker.postMessage(message);
  }

  /** Posts a batch of rows, first waiting (blocking this thread) while the writer is MAX_IN_FLIGHT behind. */
  postRows(seq: number, rows: RowResult[]): void {
    const batch = encodeRows(rows, this.sent);
    const started = Date.now();
    for (;;) {
      const inFlight = Atomics.load(this.slots, IN_FLIGHT);
      if (inFlight < MAX_IN_FLIGHT) break;
      if (Atomics.load(this.slots, STOPPED) === 1)
        throw this.exited ?? new Error("the store writer thread stopped");
      // The store's busy timeout is 10 s; a writer silent for far longer is not coming back.
      if (Date.now() - started > 60_000) throw new Error("the store writer thread stopped writing for 60 s");
      Atomics.wait(this.slots, IN_FLIGHT, inFlight, 1000);
    }
    Atomics.add(this.slots, IN_FLIGHT, 1);
    this.post({ type: "rows", seq, batch });
  }

  request(make: (request: number) => ToWriter): Promise<FromWriter> {
    const request = this.nextRequest++;
    return new Promise((resolve) => {
      this.waiting.set(request, resolve);
      try {
        this.post(make(request));
      } catch (error) {
        this.waiting.delete(request);
        resolve({ type: "failed", request, message: (error as Error).message });
      }
    });
  }

  sink(seq: number, baseline: number | null): EvalSink {
    this.post({ type: "open", seq, baseline });
    return new ThreadSink(this, seq);
  }

  async close(): Promise<void> {
    if (!this.exited) await this.request((request) => ({ type: "close", request }));
    await this.worker.terminate();
  }
}

/** One experiment's rows, buffered per turn of the event loop and handed to the writer thread. */
class ThreadSink implements EvalSink {
  private buffer: RowResult[] = [];
  private scheduled = false;
  private failure: unknown;

  constructor(
    private readonly thread: WriterThread,
    private readonly seq: number,
  ) {}

  write(row: RowResult): void {
    this.buffer.push(row);
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    try {
      this.thread.postRows(this.seq, rows);
    } catch (error) {
      this.failure ??= error;
    }
  }

  close(): void {
    this.flush();
  }

  async finish(): Promise<SinkOutcome> {
    this.flush();
    if (this.failure !== undefined) throw this.failure;
    const reply = await this.thread.request((request) => ({ type: "finish", seq: this.seq, request }));
    if (reply.type === "failed") throw new Error(reply.message);
    return reply.type === "finished" ? reply.outcome : { comparison: null, rows: undefined };
  }
}

import type Database from "better-sqlite3";
import type { ResultSink, RowResult } from "../engine/types.js";
import { Ledger, type SinkOutcome } from "./comparer.js";
import { indexedBlobs } from "./row-index.js";
import { RowWriter } from "./rows.js";
import type { WriterThread } from "./writer-client.js";

/** A result sink that, when the eval ends, also says how its rows compare with the baseline's. */
export interface EvalSink extends ResultSink {
  finish(): Promise<SinkOutcome>;
}

/** For --no-store without a baseline: nothing is kept. */
export const DISCARD: EvalSink = {
  write() {},
  close() {},
  finish: async () => ({ comparison: null, rows: undefined }),
};

/** Writes an experiment's results in this thread (an in-memory store cannot be shared with the writer thread). */
export class StoreSink implements EvalSink {
  private readonly writer: RowWriter;

  constructor(
    private readonly db: Database.Database,
    private readonly seq: number,
    private readonly baselineSeq: number | null,
  ) {
    this.writer = new RowWriter(db, seq);
  }

  write(row: RowResult): void {
    this.writer.write(row);
  }

  close(): void {
    this.writer.close();
  }

  async finish(): Promise<SinkOutcome> {
    this.writer.close();
    return new Ledger(this.db, this.seq, this.baselineSeq).finish();
  }
}

/** Rows written in this thread before an eval's rows move to the writer thread (whose start costs ~50 ms). */
const THREAD_AFTER_ROWS = 1000;

/**
 * Writes a store file's rows: small evals in this thread, where starting a thread would cost more than it saves;
 * past THREAD_AFTER_ROWS, in the writer thread, which then also keeps the comparison with the baseline (it counts
 * the rows already written).
 */
export class FileSink implements EvalSink {
  private readonly inline: RowWriter;
  private threaded: EvalSink | undefined;
  private written = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly seq: number,
    private readonly baselineSeq: number | null,
    private readonly thread: () => WriterThread,
  ) {
    this.inline = new RowWriter(db, seq);
  }

  write(row: RowResult): void {
    if (this.threaded) {
      this.threaded.write(row);
      return;
    }
    this.inline.write(row);
    if (++this.written >= THREAD_AFTER_ROWS) {
      // Committed first, so that the thread's comparison counts them.
      this.inline.close();
      const thread = this.thread();
      // A re-run of the baseline's data references the same blobs: knowing them, rows need not send them again.
      if (this.baselineSeq !== null)
        for (const digest of indexedBlobs(this.db, this.baselineSeq) ?? []) thread.sent.add(digest);
      this.threaded = thread.sink(this.seq, this.baselineSeq);
    }
  }

  close(): void {
    if (this.threaded) this.threaded.close();
    else this.inline.close();
  }

  async finish(): Promise<SinkOutcome> {
    if (this.threaded) return this.threaded.finish();
    this.inline.close();
    return new Ledger(this.db, this.seq, this.baselineSeq).finish();
  }
}

import type Database from "better-sqlite3";
import type { StoredPair } from "../engine/row-key.js";
import type { ResultSink, RowResult } from "../engine/types.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "./events.js";
import { type EncodedRows, emptyBatch, encodeRow, joinBatches, SentBlobs } from "./row-encoding.js";
import { rowInserter } from "./row-insert.js";
import type { Lane } from "./write-thread.js";

/** Rows flushed in one transaction at most; a bigger backlog is written at once, not left to grow. */
export const MAX_BATCH = 100;

/** Rows a writer inserts itself before it hands its batches to the store's writer thread. */
export const THREAD_AFTER = 2_000;

/**
 * An experiment known to hold fewer results than this (its data is an array) never starts the thread: the
 * thread's start, ~100 ms of the other core, would cost more than it saves (W2, 10,000 rows, was 0.08-0.10 s
 * slower with it). Data of unknown length (a generator) is taken to be long.
 */
export const THREAD_WORTH = 20_000;

/** Batches posted to the writer thread and not yet committed, at most: past that the engine waits for the thread,
 * so a slow disk bounds memory instead of letting the backlog grow. */
const MAX_IN_FLIGHT = 16;

/**
 * Writes an experiment's rows as they finish: rows finished in one turn of the event loop go in one transaction at
 * the end of that turn (100 at most), so a kill -9 loses at most the rows not committed yet, and a fast eval
 * writes few transactions. Each row is encoded as it arrives, so the row itself (its large input and output) is
 * not kept until the flush: kept, it survived young-generation GCs, which then cost more than the inserts.
 * Past THREAD_AFTER rows, an engine's writer whose experiment may reach THREAD_WORTH results hands its encoded
 * batches to the store's writer thread (when `lanes` gives it a lane), which inserts them over its own connection
 * while this thread goes on with the eval; a lane that fails (or a thread that is gone) gives its uncommitted
 * batches back, and they are inserted here.
 * Which blobs were sent is the writer's own: a row that leaves out a blob as sent is in the same pending batch as
 * the row that sent it, or a later one, so both commit or neither does (a failed batch is retried whole, and
 * batches commit in order on either thread).
 */
export class RowWriter implements ResultSink {
  private pending = emptyBatch();
  private scheduled = false;
  private failure: unknown;
  private readonly insert: (batch: EncodedRows) => void;
  private inserted = 0;
  private expected = Number.POSITIVE_INFINITY;
  private lane: Lane | undefined;
  /** Batches posted to the lane and not yet handed to onWritten, oldest first; `acked` were before them. */
  private inFlight: EncodedRows[] = [];
  private acked = 0;

  /**
   * `onWritten` sees each batch once it is committed (the ledger takes the keys, scores and blob refs from it);
   * `sent` may start with blobs the store is known to hold (the baseline's); `lanes` opens a lane to the writer
   * thread (undefined: every row is inserted in this thread).
   */
  constructor(
    private readonly db: Database.Database,
    seq: number,
    private readonly onWritten?: (batch: EncodedRows) => void,
    private readonly sent = new SentBlobs(),
    /** The rows come from the engine (not an import), so their fields are known. */
    private readonly engineRows = false,
    private lanes?: () => Lane | undefined,
  ) {
    this.insert = db.transaction(rowInserter(db, seq));
  }

  write(row: RowResult): void {
    encodeRow(row, this.sent, this.pending, this.engineRows);
    if (this.pending.count >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is pending; a failure keeps the rows for the next attempt and is thrown by close(). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.count === 0) return;
    const lane = this.lane;
    if (lane?.ready()) {
      this.pending = emptyBatch();
      lane.post(batch);
      this.inFlight.push(batch);
      this.settle(MAX_IN_FLIGHT);
      return;
    }
    // A thread no longer ready after taking batches is gone: they are inserted here first, in order.
    if (lane && this.inFlight.length > 0) {
      this.takeOver();
      return;
    }
    try {
      this.insert(batch);
      this.pending = emptyBatch();
      this.failure = undefined;
    } catch (error) {
      this.failure = error;
      return;
    }
    this.onWritten?.(batch);
    this.inserted += batch.count;
    // The lane (and the thread, when this is the first) is asked for before it is needed: the thread takes some
    // 100 ms to start, and batches go on being inserted here until it is ready.
    if (
      this.lanes &&
      this.inserted >= THREAD_AFTER &&
      this.expected >= THREAD_WORTH &&
      !this.db.inTransaction
    ) {
      this.lane = this.lanes();
      this.lanes = undefined;
    }
  }

  /** How many results the experiment will have in all, when the data says (an array). */
  expect(results: number): void {
    this.expected = results;
  }

  close(): void {
    // No rows will follow: a thread started now would only cost its start.
    this.lanes = undefined;
    this.flush();
    const lane = this.lane;
    if (lane) {
      if (lane.close()) {
        this.settle(0);
        this.lane = undefined;
      } else this.takeOver();
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Drops what is pending (the transaction it belonged to was rolled back). */
  discard(): void {
    this.pending = emptyBatch();
  }

  /** Hands the committed batches to onWritten, once no more than `behind` are left uncommitted. */
  private settle(behind: number): void {
    const lane = this.lane as Lane;
    const needed = this.acked + this.inFlight.length - behind;
    if (needed > lane.committed() && !lane.waitFor(needed)) {
      this.takeOver();
      return;
    }
    this.handOver(lane);
  }

  /** Hands the batches `lane` has committed since the last call to onWritten. */
  private handOver(lane: Lane): void {
    const done = this.inFlight.splice(0, lane.committed() - this.acked);
    this.acked += done.length;
    for (const batch of done) this.onWritten?.(batch);
  }

  /** The lane failed or its thread is gone: what it did not commit is inserted here, in order, from now on. */
  private takeOver(): void {
    const lane = this.lane as Lane;
    this.lane = undefined;
    lane.close();
    this.handOver(lane);
    this.pending = joinBatches([...this.inFlight, this.pending]);
    this.inFlight = [];
    this.flush();
  }
}

/** The stored results of an experiment (or only those that errored), oldest first, read one at a time. */
export function* storedRows(
  db: Database.Database,
  seq: number,
  which: "all" | "errored" = "all",
): Generator<RowResult> {
  const only = which === "errored" ? "AND e.errored = 1" : "";
  const query = db.prepare(
    `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS} WHERE e.exp = ? ${only} ORDER BY e.rowid`,
  );
  for (const record of query.iterate(seq)) yield decodeEvent(record as EventRecord);
}

/** Where each stored result of an experiment is (row key, trial, row index), optionally only the (not) errored. */
export function storedPairs(
  db: Database.Database,
  seq: number,
  which: "all" | "errored" | "ok" = "all",
): StoredPair[] {
  const only = which === "errored" ? "AND errored = 1" : which === "ok" ? "AND errored = 0" : "";
  return db
    .prepare(
      `SELECT row_key AS key, trial_index AS trial, row_index AS "index" FROM results WHERE exp = ? ${only} ORDER BY rowid`,
    )
    .all(seq) as StoredPair[];
}

/** The row key an experiment's results have at each row index (what a re-run compares its data with). */
export function keysByIndex(pairs: readonly StoredPair[]): Map<number, string> {
  const keys = new Map<number, string>();
  for (const p of pairs) keys.set(p.index, p.key);
  return keys;
}

/** Copies the results of one experiment into another (all, or only those that did not error). */
export function copyRows(db: Database.Database, from: number, to: number, okOnly: boolean): number {
  const columns =
    "id, row_key, row_index, trial_index, errored, scores, started, ended, duration, event, input_ref, output_ref, expected_ref";
  return db
    .prepare(
      `INSERT INTO results (exp, ${columns}) SELECT ?, ${columns} FROM results
       WHERE exp = ? ${okOnly ? "AND errored = 0" : ""} ORDER BY rowid`,
    )
    .run(to, from).changes;
}

export function rowCount(db: Database.Database, seq: number): number {
  return db.prepare("SELECT count(*) FROM results WHERE exp = ?").pluck().get(seq) as number;
}

import type Database from "better-sqlite3";
import { pairKey } from "../engine/row-key.js";
import type { ResultSink, RowResult } from "../engine/types.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "./events.js";
import { type EncodedRows, emptyBatch, encodeRow, SentBlobs } from "./row-encoding.js";
import { rowInserter } from "./row-insert.js";

/** Rows flushed in one transaction at most; a bigger backlog is written at once, not left to grow. */
export const MAX_BATCH = 100;

/**
 * Writes an experiment's rows in this thread as they finish: rows finished in one turn of the event loop go in one
 * transaction at the end of that turn, so a kill -9 loses at most the rows of the turn it lands in, and a fast eval
 * still writes thousands of rows per transaction. Each row is encoded as it arrives, so the row itself (its large
 * input and output) is not kept until the flush: kept, it survived young-generation GCs, which then cost more
 * than the inserts.
 * Which blobs were sent is the writer's own: a row that leaves out a blob as sent is in the same pending batch as
 * the row that sent it, or a later one, so both commit or neither does (a failed batch is retried whole).
 */
export class RowWriter implements ResultSink {
  private pending = emptyBatch();
  private scheduled = false;
  private failure: unknown;
  private readonly insert: (batch: EncodedRows) => void;

  /**
   * `onWritten` sees each batch once it is committed (the ledger takes the keys, scores and blob refs from it);
   * `sent` may start with blobs the store is known to hold (the baseline's).
   */
  constructor(
    db: Database.Database,
    seq: number,
    private readonly onWritten?: (batch: EncodedRows) => void,
    private readonly sent = new SentBlobs(),
    /** The rows come from the engine (not an import), so their fields are known. */
    private readonly engineRows = false,
  ) {
    this.insert = rowInserter(db, seq);
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
    try {
      this.insert(batch);
      this.pending = emptyBatch();
      this.failure = undefined;
    } catch (error) {
      this.failure = error;
      return;
    }
    this.onWritten?.(batch);
  }

  close(): void {
    this.flush();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Drops what is pending (the transaction it belonged to was rolled back). */
  discard(): void {
    this.pending = emptyBatch();
  }
}

/** The stored results of an experiment, oldest first, read one at a time. */
export function* storedRows(db: Database.Database, seq: number): Generator<RowResult> {
  const query = db.prepare(
    `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS} WHERE e.exp = ? ORDER BY e.rowid`,
  );
  for (const record of query.iterate(seq)) yield decodeEvent(record as EventRecord);
}

/** How many results each (row key, trial) has, optionally only the errored ones. */
export function resultCounts(db: Database.Database, seq: number, erroredOnly = false): Map<string, number> {
  const rows = db
    .prepare(
      `SELECT row_key AS key, trial_index AS trial, count(*) AS n FROM results WHERE exp = ? ${erroredOnly ? "AND errored = 1" : ""} GROUP BY row_key, trial_index`,
    )
    .all(seq) as Array<{ key: string; trial: number; n: number }>;
  return new Map(rows.map((r) => [pairKey(r.key, r.trial), r.n]));
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

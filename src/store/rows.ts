import type Database from "better-sqlite3";
import { pairKey } from "../engine/row-key.js";
import type { ResultSink, RowResult } from "../engine/types.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "./events.js";
import { type EncodedRows, encodeRows, SentBlobs } from "./row-encoding.js";
import { rowInserter } from "./row-insert.js";

/** Blobs handed to each store by this thread, so each large value is serialised and inserted once. */
const sentBlobs = new WeakMap<Database.Database, SentBlobs>();

export function blobsSentTo(db: Database.Database): SentBlobs {
  let sent = sentBlobs.get(db);
  if (!sent) {
    sent = new SentBlobs();
    sentBlobs.set(db, sent);
  }
  return sent;
}

/** Forgets the blobs this thread wrote to `db` (after rolling back a transaction that wrote some). */
export function forgetBlobs(db: Database.Database): void {
  sentBlobs.delete(db);
}

/** Rows flushed in one transaction at most; a bigger backlog is written at once, not left to grow. */
export const MAX_BATCH = 2000;

/**
 * Writes an experiment's rows in this thread as they finish: rows finished in one turn of the event loop go in one
 * transaction at the end of that turn, so a kill -9 loses at most the rows of the turn it lands in, and a fast eval
 * still writes thousands of rows per transaction.
 */
export class RowWriter implements ResultSink {
  private buffer: RowResult[] = [];
  private scheduled = false;
  private failure: unknown;
  private readonly insertMany: (rows: RowResult[]) => void;

  /** `onWritten` sees each batch once it is committed, encoded (the ledger takes the blob refs from it). */
  constructor(
    private readonly db: Database.Database,
    seq: number,
    onWritten?: (rows: RowResult[], batch: EncodedRows) => void,
  ) {
    const insert = rowInserter(db, seq);
    this.insertMany = (rows) => {
      const batch = encodeRows(rows, blobsSentTo(db));
      insert(batch);
      onWritten?.(rows, batch);
    };
  }

  write(row: RowResult): void {
    this.buffer.push(row);
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is buffered; a failure keeps the rows for the next attempt and is thrown by close(). */
  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    try {
      this.insertMany(rows);
      this.failure = undefined;
    } catch (error) {
      this.buffer = rows.concat(this.buffer);
      this.failure = error;
      // The blobs of the rolled-back rows were counted as written; the retry must send them again.
      blobsSentTo(this.db).clear();
    }
  }

  close(): void {
    this.flush();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Drops what is buffered (the transaction it belonged to was rolled back). */
  discard(): void {
    this.buffer = [];
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

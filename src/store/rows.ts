import type Database from "better-sqlite3";
import { configure } from "safe-stable-stringify";
import type { ResultSink, RowResult } from "../engine/types.js";

// JSON.stringify is fastest; this one takes what it throws on (BigInt, cycles) so that no row is ever lost.
const tolerantStringify = configure({ bigint: true, circularValue: "[Circular]", deterministic: false });

export function serializeRow(row: RowResult): string {
  try {
    return JSON.stringify(row);
  } catch {
    return tolerantStringify(row) ?? "{}";
  }
}

const isErrored = (row: RowResult) => (row.error !== undefined || row.score_errors !== undefined ? 1 : 0);

/** Rows flushed in one transaction at most; a bigger backlog is written at once, not left to grow. */
const MAX_BATCH = 2000;
/** Rows per INSERT statement (7 parameters a row stays far below SQLite's 32,766). */
const ROWS_PER_STATEMENT = 50;

/**
 * Writes an experiment's rows as they finish: rows finished in one turn of the event loop go in one transaction
 * at the end of that turn, so a kill -9 loses at most the rows of the turn it lands in, and a fast eval still
 * writes thousands of rows per transaction.
 */
export class RowWriter implements ResultSink {
  private buffer: RowResult[] = [];
  private scheduled = false;
  private failure: unknown;
  private readonly insertMany: (rows: RowResult[]) => void;
  written = 0;

  constructor(
    db: Database.Database,
    private readonly seq: number,
  ) {
    // Many rows per INSERT statement: per-statement overhead, not SQLite, dominates small rows (9 -> 4 us a row).
    const statements = new Map<number, [Database.Statement, Database.Statement]>();
    const statementsFor = (n: number) => {
      let pair = statements.get(n);
      if (!pair) {
        pair = [
          db.prepare(
            `INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
          ),
          db.prepare(`INSERT INTO events (rid, event) VALUES ${Array(n).fill("(?, ?)").join(", ")}`),
        ];
        statements.set(n, pair);
      }
      return pair;
    };
    this.insertMany = db.transaction((rows: RowResult[]) => {
      for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
        const [insertRows, insertEvents] = statementsFor(chunk.length);
        const values: unknown[] = [];
        for (const row of chunk) {
          values.push(
            this.seq,
            row.id,
            row.row_key,
            row.row_index,
            row.trial_index,
            isErrored(row),
            JSON.stringify(row.scores),
          );
        }
        // Inside the transaction nothing else inserts, so the chunk's rowids are consecutive, ending at the last.
        const last = Number(insertRows.run(values).lastInsertRowid);
        const events: unknown[] = [];
        chunk.forEach((row, i) => {
          events.push(last - chunk.length + 1 + i, serializeRow(row));
        });
        insertEvents.run(events);
      }
    });
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
      this.written += rows.length;
      this.failure = undefined;
    } catch (error) {
      this.buffer = rows.concat(this.buffer);
      this.failure = error;
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
  const query = db
    .prepare("SELECT e.event FROM rows r JOIN events e ON e.rid = r.rowid WHERE r.exp = ? ORDER BY r.rowid")
    .pluck();
  for (const event of query.iterate(seq)) yield JSON.parse(event as string) as RowResult;
}

/** How many results each (row key, trial) has, optionally only the errored ones. */
export function resultCounts(db: Database.Database, seq: number, erroredOnly = false): Map<string, number> {
  const rows = db
    .prepare(
      `SELECT row_key AS key, trial_index AS trial, count(*) AS n FROM rows WHERE exp = ? ${erroredOnly ? "AND errored = 1" : ""} GROUP BY row_key, trial_index`,
    )
    .all(seq) as Array<{ key: string; trial: number; n: number }>;
  return new Map(rows.map((r) => [pairKey(r.key, r.trial), r.n]));
}

export const pairKey = (rowKey: string, trial: number) => `${trial}\u0000${rowKey}`;

/** Copies the results of one experiment into another (all, or only those that did not error). */
export function copyRows(db: Database.Database, from: number, to: number, okOnly: boolean): number {
  const source = db.prepare(
    `SELECT rowid AS rid, id, row_key, row_index, trial_index, errored, scores
     FROM rows WHERE exp = ? ${okOnly ? "AND errored = 0" : ""} ORDER BY rowid`,
  );
  const insert = db.prepare(
    "INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const copyEvent = db.prepare("INSERT INTO events (rid, event) SELECT ?, event FROM events WHERE rid = ?");
  interface Source {
    rid: number;
    id: string;
    row_key: string;
    row_index: number;
    trial_index: number;
    errored: number;
    scores: string;
  }
  return db.transaction(() => {
    let copied = 0;
    for (const r of source.all(from) as Source[]) {
      const { lastInsertRowid } = insert.run(
        to,
        r.id,
        r.row_key,
        r.row_index,
        r.trial_index,
        r.errored,
        r.scores,
      );
      copyEvent.run(lastInsertRowid, r.rid);
      copied++;
    }
    return copied;
  })();
}

export function rowCount(db: Database.Database, seq: number): number {
  return (db.prepare("SELECT count(*) AS n FROM rows WHERE exp = ?").get(seq) as { n: number }).n;
}

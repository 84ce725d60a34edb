import type Database from "better-sqlite3";
import { type EncodedRows, VALUES_PER_ROW } from "./row-encoding.js";

/**
 * Rows per INSERT statement, a whole flush (MAX_BATCH): per-statement overhead, not SQLite, dominates small rows
 * (1 row a statement: 9 us a row; 50: 4 us; 100 instead of two of 50: W2 -0.045 s, W4 -0.08 s interleaved).
 */
const ROWS_PER_STATEMENT = 100;

const RESULT_COLUMNS =
  "exp, id, row_key, row_index, trial_index, errored, scores, started, ended, duration, event, input_ref, output_ref, expected_ref";

/** 100, 10 or 1 rows a statement: three statements prepared per writer, not one for each batch's remainder. */
const rowsNext = (left: number) => (left >= ROWS_PER_STATEMENT ? ROWS_PER_STATEMENT : left >= 10 ? 10 : 1);

type Batch = Pick<EncodedRows, "count" | "values" | "blobs">;

/**
 * Inserts encoded results of one experiment, in the caller's transaction: wrapped in `db.transaction()`, each batch
 * gets one of its own (a savepoint inside another). The writer thread runs many batches in one transaction with no
 * savepoint each: a savepoint copies every page it first changes to a sub-journal, and the blobs' random-hash index
 * spreads a batch over ~100 pages (W4's first-run inserts, replayed, took 2.2-2.4 s in savepoints, 1.4-1.7 s
 * without).
 */
export function rowInserter(db: Database.Database, seq: number): (batch: Batch) => void {
  const statements = new Map<string, Database.Statement>();
  const statement = (kind: "results" | "blobs", n: number) => {
    const key = `${kind}:${n}`;
    let found = statements.get(key);
    if (!found) {
      const sql =
        kind === "results"
          ? `INSERT INTO results (${RESULT_COLUMNS}) VALUES ${Array(n)
              .fill(`(${seq}, ${Array(VALUES_PER_ROW).fill("?").join(", ")})`)
              .join(", ")}`
          : `INSERT OR IGNORE INTO blobs (hash, json) VALUES ${Array(n).fill("(?, ?)").join(", ")}`;
      found = db.prepare(sql);
      statements.set(key, found);
    }
    return found;
  };
  return (batch: Batch) => {
    const { values, blobs } = batch;
    for (let first = 0; first < blobs.length / 2; ) {
      const n = rowsNext(blobs.length / 2 - first);
      statement("blobs", n).run(...blobs.slice(2 * first, 2 * (first + n)));
      first += n;
    }
    for (let first = 0; first < batch.count; ) {
      const n = rowsNext(batch.count - first);
      const from = first * VALUES_PER_ROW;
      // As arguments, not one array: better-sqlite3 then reads each parameter directly instead of looking it up
      // as an array element (~1.5 us a row of 13 parameters).
      statement("results", n).run(...values.slice(from, from + n * VALUES_PER_ROW));
      first += n;
    }
  };
}

import type Database from "better-sqlite3";
import { type EncodedRows, VALUES_PER_ROW } from "./row-encoding.js";

/** Rows per INSERT statement: per-statement overhead, not SQLite, dominates small rows (9 -> 4 us a row). */
const ROWS_PER_STATEMENT = 50;

const RESULT_COLUMNS =
  "exp, id, row_key, row_index, trial_index, errored, scores, started, ended, duration, event, input_ref, output_ref, expected_ref";

/** Inserts encoded results of one experiment, each batch in one transaction (a savepoint inside another). */
export function rowInserter(db: Database.Database, seq: number): (batch: EncodedRows) => void {
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
  return db.transaction((batch: EncodedRows) => {
    const { values, blobs } = batch;
    for (let b = 0; b < blobs.length; b += 2 * ROWS_PER_STATEMENT) {
      const part = blobs.slice(b, b + 2 * ROWS_PER_STATEMENT);
      statement("blobs", part.length / 2).run(...part);
    }
    for (let first = 0; first < batch.count; first += ROWS_PER_STATEMENT) {
      const n = Math.min(ROWS_PER_STATEMENT, batch.count - first);
      const from = first * VALUES_PER_ROW;
      // As arguments, not one array: better-sqlite3 then reads each parameter directly instead of looking it up
      // as an array element (~1.5 us a row of 13 parameters).
      statement("results", n).run(...values.slice(from, from + n * VALUES_PER_ROW));
    }
  });
}

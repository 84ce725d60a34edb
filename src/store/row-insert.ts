import type Database from "better-sqlite3";
import { type EncodedRows, REFS_AT, VALUES_PER_ROW } from "./row-encoding.js";

/** Rows per INSERT statement: per-statement overhead, not SQLite, dominates small rows (9 -> 4 us a row). */
const ROWS_PER_STATEMENT = 50;

/** Inserts encoded results of one experiment, each batch in one transaction (a savepoint inside another). */
export function rowInserter(db: Database.Database, seq: number): (batch: EncodedRows) => void {
  const statements = new Map<string, Database.Statement>();
  const statement = (kind: "rows" | "events" | "blobs", n: number) => {
    const key = `${kind}:${n}`;
    let found = statements.get(key);
    if (!found) {
      const sql =
        kind === "rows"
          ? `INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?, ?)").join(", ")}`
          : kind === "events"
            ? `INSERT INTO events (rid, event, input_ref, output_ref, expected_ref) VALUES ${Array(n).fill("(?, ?, ?, ?, ?)").join(", ")}`
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
      statement("blobs", part.length / 2).run(part);
    }
    const rowValues: unknown[] = [];
    const eventValues: unknown[] = [];
    for (let first = 0; first < batch.count; first += ROWS_PER_STATEMENT) {
      const n = Math.min(ROWS_PER_STATEMENT, batch.count - first);
      rowValues.length = 0;
      for (let i = first * VALUES_PER_ROW, end = (first + n) * VALUES_PER_ROW; i < end; i += VALUES_PER_ROW) {
        rowValues.push(
          seq,
          values[i],
          values[i + 1],
          values[i + 2],
          values[i + 3],
          values[i + 4],
          values[i + 5],
        );
      }
      // Inside the transaction nothing else inserts, so the chunk's rowids are consecutive, ending at the last.
      const last = Number(statement("rows", n).run(rowValues).lastInsertRowid);
      eventValues.length = 0;
      for (let r = 0; r < n; r++) {
        const i = (first + r) * VALUES_PER_ROW;
        const refs = i + REFS_AT;
        eventValues.push(last - n + 1 + r, values[i + 6], values[refs], values[refs + 1], values[refs + 2]);
      }
      statement("events", n).run(eventValues);
    }
  });
}

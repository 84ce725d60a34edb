import type Database from "better-sqlite3";
import { pairKey } from "../engine/row-key.js";
import type { ResultSink, RowResult } from "../engine/types.js";
import {
  type BlobFields,
  blobFields,
  blobText,
  decodeEvent,
  EVENT_COLUMNS,
  EVENT_JOINS,
  type EventRecord,
  encodeEvent,
} from "./events.js";

/** Blob hashes known to be committed to each store by this process, so each is inserted once. */
const knownBlobs = new WeakMap<Database.Database, Set<string>>();

/** Forgets the blobs this process wrote to `db` (after rolling back a transaction that wrote some). */
export function forgetBlobs(db: Database.Database): void {
  knownBlobs.delete(db);
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

  constructor(
    db: Database.Database,
    private readonly seq: number,
  ) {
    // Many rows per INSERT statement: per-statement overhead, not SQLite, dominates small rows (9 -> 4 us a row).
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
    let known = knownBlobs.get(db);
    if (!known) {
      known = new Set();
      knownBlobs.set(db, known);
    }
    const blobsKnown = known;
    let adding = new Set<string>();
    const exists = new Map<number, Database.Statement>();
    const existing = (digests: string[]): string[] => {
      let statement = exists.get(digests.length);
      if (!statement) {
        statement = db
          .prepare(`SELECT hash FROM blobs WHERE hash IN (${digests.map(() => "?").join(", ")})`)
          .pluck();
        exists.set(digests.length, statement);
      }
      return statement.all(digests) as string[];
    };
    const insertMany = db.transaction((rows: RowResult[]) => {
      for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
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
        const last = Number(statement("rows", chunk.length).run(values).lastInsertRowid);
        // Blobs: ask once which of the chunk's digests the store lacks, and serialise only those.
        const fields = chunk.map((row) => blobFields(row));
        const unknown = new Set<string>();
        for (const list of fields)
          for (const f of list) if (!blobsKnown.has(f.digest) && !adding.has(f.digest)) unknown.add(f.digest);
        if (unknown.size > 0) for (const digest of existing([...unknown])) blobsKnown.add(digest);
        const blobs: unknown[] = [];
        const events: unknown[] = [];
        chunk.forEach((row, i) => {
          const list = fields[i] as BlobFields;
          for (const f of list) {
            if (blobsKnown.has(f.digest) || adding.has(f.digest)) continue;
            adding.add(f.digest);
            blobs.push(f.digest, blobText(f));
          }
          const encoded = encodeEvent(row, list);
          events.push(last - chunk.length + 1 + i, encoded.event, ...encoded.refs);
        });
        statement("events", chunk.length).run(events);
        for (let b = 0; b < blobs.length; b += 2 * ROWS_PER_STATEMENT) {
          const part = blobs.slice(b, b + 2 * ROWS_PER_STATEMENT);
          statement("blobs", part.length / 2).run(part);
        }
      }
    });
    // A blob counts as stored only once its transaction has committed.
    this.insertMany = (rows) => {
      adding = new Set();
      insertMany(rows);
      for (const digest of adding) blobsKnown.add(digest);
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
    `SELECT ${EVENT_COLUMNS} FROM rows r JOIN events e ON e.rid = r.rowid ${EVENT_JOINS} WHERE r.exp = ? ORDER BY r.rowid`,
  );
  for (const record of query.iterate(seq)) yield decodeEvent(record as EventRecord);
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

/** Copies the results of one experiment into another (all, or only those that did not error). */
export function copyRows(db: Database.Database, from: number, to: number, okOnly: boolean): number {
  const source = db.prepare(
    `SELECT rowid AS rid, id, row_key, row_index, trial_index, errored, scores
     FROM rows WHERE exp = ? ${okOnly ? "AND errored = 0" : ""} ORDER BY rowid`,
  );
  const insert = db.prepare(
    "INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const copyEvent = db.prepare(
    "INSERT INTO events (rid, event, input_ref, output_ref, expected_ref) SELECT ?, event, input_ref, output_ref, expected_ref FROM events WHERE rid = ?",
  );
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

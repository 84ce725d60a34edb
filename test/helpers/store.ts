import Database from "better-sqlite3";
import { EVENT_COLUMNS, EVENT_JOINS, type EventRecord, eventJson } from "../../src/store/events.js";
import { type ExperimentRecord, Experiments } from "../../src/store/experiments.js";

/** An `experiments` row as stored (JSON columns left as text). */
export type StoredExperiment = ExperimentRecord;

/** A stored result: its columns, and its whole event as JSON (as `evalrun export` writes it). */
export interface StoredRow {
  exp: number;
  id: string;
  row_key: string;
  row_index: number;
  trial_index: number;
  errored: number;
  scores: string;
  event: string;
}

/**
 * Runs `fn` on the store opened read-only, so that looking never changes what is looked at (no migration, no
 * marking of abandoned runs, no checkpoint).
 */
export function withStore<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every experiment, oldest first. */
export function experiments(file: string): StoredExperiment[] {
  return withStore(
    file,
    (db) => db.prepare("SELECT * FROM experiments ORDER BY seq").all() as StoredExperiment[],
  );
}

/** The rows of one experiment (or of all), in the order they were written, each with its full result. */
export function storedRows(file: string, exp?: number): StoredRow[] {
  return withStore(file, (db) => {
    // Each result's columns, with its full InsertEvent JSON as the store gives it back (blobs and columns in).
    const select = `SELECT e.exp, e.errored, ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}`;
    const records = (
      exp === undefined
        ? db.prepare(`${select} ORDER BY e.rowid`).all()
        : db.prepare(`${select} WHERE e.exp = ? ORDER BY e.rowid`).all(exp)
    ) as Array<EventRecord & { exp: number; errored: number }>;
    return records.map((r) => ({
      exp: r.exp,
      id: r.id,
      row_key: r.row_key,
      row_index: r.row_index,
      trial_index: r.trial_index,
      errored: r.errored,
      scores: r.scores,
      event: eventJson(r),
    }));
  });
}

/** Everything a user could see change: every table's every row, and the schema version. */
export function snapshot(file: string): { tables: Record<string, unknown[]>; userVersion: number } {
  return withStore(file, (db) => {
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    const tables: Record<string, unknown[]> = {};
    for (const name of names)
      tables[name] = db
        .prepare(
          // blobs is a WITHOUT ROWID table, ordered by its key.
          name === "blobs"
            ? `SELECT * FROM "${name}"`
            : `SELECT rowid AS _rowid, * FROM "${name}" ORDER BY rowid`,
        )
        .all();
    return { tables, userVersion: db.pragma("user_version", { simple: true }) as number };
  });
}

/** A bare experiment of eval "p" in an open store, for tests that write rows to it directly. */
export function newExperiment(db: Database.Database, name: string, trialCount = 1) {
  return new Experiments(db).create({
    project: "p",
    name,
    git: { commit: null, branch: null, dirty: null },
    evalrunVersion: "test",
    file: null,
    description: null,
    metadata: {},
    tags: [],
    trialCount,
  });
}

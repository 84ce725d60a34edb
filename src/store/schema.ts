import type Database from "better-sqlite3";
import { rowKey } from "../engine/row-key.js";

/**
 * The store's schema, as forward-only migrations: migration i takes the store from version i to i + 1 (SQLite's
 * user_version). A store at a version above SCHEMA_VERSION was written by a newer evalrun and is refused.
 */
const MIGRATIONS: Array<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE experiments (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        name TEXT NOT NULL,
        created TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
        source TEXT NOT NULL DEFAULT 'run',
        git_commit TEXT,
        git_branch TEXT,
        git_dirty INTEGER,
        evalrun_version TEXT NOT NULL,
        file TEXT,
        description TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        trial_count INTEGER NOT NULL DEFAULT 1,
        summary TEXT,
        base_experiment_id TEXT,
        owner_pid INTEGER,
        owner_host TEXT,
        UNIQUE (project, name)
      );
      CREATE INDEX experiments_by_project ON experiments (project, seq);
      -- One row per (dataset row x trial) result, narrow so that comparisons scan little; the full result
      -- (InsertEvent JSON, inputs and outputs included) is in events, keyed by the result's rowid.
      -- No index on row_key: inserts stay append-only and cheap; comparisons group by it once, when a run ends.
      CREATE TABLE rows (
        exp INTEGER NOT NULL REFERENCES experiments (seq),
        id TEXT NOT NULL,
        row_key TEXT NOT NULL,
        row_index INTEGER NOT NULL,
        trial_index INTEGER NOT NULL,
        errored INTEGER NOT NULL,
        scores TEXT NOT NULL
      );
      CREATE INDEX rows_by_experiment ON rows (exp);
      CREATE TABLE events (
        rid INTEGER PRIMARY KEY,
        event TEXT NOT NULL
      );
    `);
  },
  (db) => {
    // Large inputs, outputs and expected values are stored once, by content: a dataset re-run, or an output equal
    // to its input, adds no new bytes. An event's *_ref names the blob holding that field (NULL: it is inline).
    db.exec(`
      -- A rowid table with a separate index on hash: the index stays small (hash -> rowid) while the values are
      -- appended, where a WITHOUT ROWID table would split pages full of values on every random-hash insert.
      CREATE TABLE blobs (
        hash TEXT NOT NULL UNIQUE,
        json TEXT NOT NULL
      );
      ALTER TABLE events ADD COLUMN input_ref TEXT;
      ALTER TABLE events ADD COLUMN output_ref TEXT;
      ALTER TABLE events ADD COLUMN expected_ref TEXT;
    `);
    rekeyStringInputs(db);
  },
  (db) => {
    // What a run needs from an experiment it uses as its baseline, in two values instead of one JSON parse per
    // row: each row key's trial-averaged scores, and the digests of the blobs its events reference (blobs a re-run
    // of the same data need not send again). Written when an experiment finishes; one without (older, imported,
    // too big) is read from its rows instead.
    db.exec(`
      CREATE TABLE row_index (
        exp INTEGER PRIMARY KEY REFERENCES experiments (seq),
        means TEXT NOT NULL,
        blobs TEXT NOT NULL
      );
    `);
  },
  (db) => {
    // One table of results instead of a narrow `rows` table plus `events` joined on rowid: one insert a result, and
    // the fields with columns (id, scores, row key and index, trial, start, end, duration) are no longer repeated
    // in the event JSON, which halves the bytes a result costs. Older events keep their repeated fields; reading
    // prefers the columns. Their metrics stay in the event (the metric columns are left NULL).
    // No REFERENCES on exp: better-sqlite3 enforces foreign keys, which cost ~2 us an inserted result; the writer
    // only ever inserts into an experiment it created, and removing one deletes its results first.
    db.exec(`
      CREATE TABLE results (
        exp INTEGER NOT NULL,
        id TEXT NOT NULL,
        row_key TEXT NOT NULL,
        row_index INTEGER NOT NULL,
        trial_index INTEGER NOT NULL,
        errored INTEGER NOT NULL,
        scores TEXT NOT NULL,
        started REAL,
        ended REAL,
        duration REAL,
        event TEXT,
        input_ref TEXT,
        output_ref TEXT,
        expected_ref TEXT
      );
      INSERT INTO results (exp, id, row_key, row_index, trial_index, errored, scores, event, input_ref, output_ref,
                           expected_ref)
        SELECT r.exp, r.id, r.row_key, r.row_index, r.trial_index, r.errored, r.scores, e.event, e.input_ref,
               e.output_ref, e.expected_ref
        FROM rows r JOIN events e ON e.rid = r.rowid ORDER BY r.rowid;
      DROP TABLE events;
      DROP TABLE rows;
      CREATE INDEX results_by_experiment ON results (exp);
    `);
  },
  () => {
    // No table changes: a blob holding a string may now be the string itself after a "~" (events.ts, blobText),
    // where it was always JSON. The version moves so that an older evalrun, which would read such a blob as JSON,
    // refuses the store instead.
  },
  (db) => {
    // The rows a run selected (--first, --sample, --shard, --filter), as its flags: NULL for a run of every row.
    // A partial run is never a default baseline, --resume continues it only with the same selection, and
    // `baseline save` does not take it for the eval's scores.
    db.exec("ALTER TABLE experiments ADD COLUMN selection TEXT");
  },
  (db) => {
    // A digest of the compiled eval code a run ran (its bundle, less its source map): --resume refuses to continue
    // an experiment with other code, which stored two versions' rows as one complete experiment.
    db.exec("ALTER TABLE experiments ADD COLUMN code TEXT");
  },
  (db) => {
    // Why a run that stopped on an error (its data threw) stopped: its status stays 'interrupted', since --resume
    // continues it once fixed, but its history says it failed and why, not that someone stopped it.
    db.exec("ALTER TABLE experiments ADD COLUMN failure TEXT");
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Schema 2 came with cheaper row keys for string inputs (a digest of the string, not of its JSON). Stored rows keep
 * the key they were written with, so those of a string input without an id are keyed again: else history from
 * before never matches a new run, and --resume runs its rows a second time. (Inputs are inline in schema 1.)
 */
function rekeyStringInputs(db: Database.Database): void {
  const changed: Array<[string, number]> = [];
  const rows = db
    .prepare(
      "SELECT rows.rowid AS rid, row_key AS key, event FROM rows JOIN events ON events.rid = rows.rowid",
    )
    .iterate() as Iterable<{ rid: number; key: string; event: string }>;
  for (const { rid, key, event } of rows) {
    if (!key.startsWith("h:")) continue;
    const input = (JSON.parse(event) as { input?: unknown }).input;
    if (typeof input !== "string") continue;
    const now = rowKey({ input });
    if (now !== key) changed.push([now, rid]);
  }
  const update = db.prepare("UPDATE rows SET row_key = ? WHERE rowid = ?");
  for (const [key, rid] of changed) update.run(key, rid);
}

/**
 * Brings a store up to SCHEMA_VERSION. The version is read inside the same immediate (write-locked) transaction
 * that migrates, so two processes opening a new store at once cannot both create its tables. `check` sees the
 * version found, under the lock, and may refuse the store.
 */
export function migrate(
  db: Database.Database,
  check: (found: number) => void = () => {},
  target = SCHEMA_VERSION,
): number {
  return db
    .transaction(() => {
      const found = db.pragma("user_version", { simple: true }) as number;
      check(found);
      if (found >= target) return found;
      for (let version = found; version < target; version++) MIGRATIONS[version]?.(db);
      db.pragma(`user_version = ${target}`);
      return found;
    })
    .immediate();
}

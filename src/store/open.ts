import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { EvalrunError, isEvalrunError } from "../define/errors.js";
import { makeDirs } from "../util/make-dirs.js";
import { sqliteConnection } from "../util/sqlite-binding.js";
import { migrate, SCHEMA_VERSION } from "./schema.js";
import { sqliteProblem } from "./sqlite-problem.js";
import { WriteThread } from "./write-thread.js";

export interface OpenedStore {
  db: Database.Database;
  /** The file, or ":memory:" for a run with --no-store. */
  location: string;
}

/**
 * Pages of a store made from now on. 1 KB blobs fit 4 KB pages three to a page, with a quarter of each page
 * empty: W4's first run made a 174 MB store (154 MB with 8 KB pages, 146 MB with 16 KB). Small results pay for
 * whole pages at each commit: W2's inserts took ~75 ms with 4 KB pages, ~60 with 8 KB and ~86 with 16 KB (medians
 * of 8 runs each), its whole runs 473 ms with 8 KB against 500 with 16 KB (20 each). W4's first run took the same
 * with 8 and 16 KB (2.69 s, 6 runs each).
 */
const NEW_STORE_PAGE_SIZE = 8_192;

function storeError(code: string | undefined, file: string, cause: unknown): EvalrunError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  // Locked by another evalrun (a migration of a big store, an import): not a permission problem.
  if (code?.startsWith("SQLITE_BUSY"))
    return sqliteProblem(cause) ?? new EvalrunError("STORE_UNWRITABLE", reason);
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new EvalrunError(
      "STORE_INVALID",
      `The store ${file} is not an evalrun store (not a SQLite database, or a damaged one: ${reason}). Nothing was changed.`,
      "Move the file away, or point --store (or EVALRUN_STORE) at another path, or run with --no-store.",
      { cause },
    );
  }
  if (isDirectory(file))
    return new EvalrunError(
      "STORE_UNWRITABLE",
      `The store ${file} is a directory; the store is a file.`,
      `Point --store (or EVALRUN_STORE) at a file, e.g. ${path.join(file, "evalrun.db")}, or run with --no-store.`,
      { cause },
    );
  return new EvalrunError(
    "STORE_UNWRITABLE",
    `Cannot write the store ${file}: ${reason}.`,
    "Make its directory writable, point --store (or EVALRUN_STORE) at a writable path, or run with --no-store.",
    { cause },
  );
}

/** Runs experiments left `running` by a process that is gone (kill -9, a crash) as `interrupted`. */
function markAbandoned(db: Database.Database): void {
  const host = os.hostname();
  const running = db
    .prepare(
      "SELECT seq, owner_pid AS pid, owner_host AS host, created FROM experiments WHERE status = 'running'",
    )
    .all() as Array<{ seq: number; pid: number | null; host: string | null; created: string }>;
  const mark = db.prepare(
    "UPDATE experiments SET status = 'interrupted' WHERE seq = ? AND status = 'running'",
  );
  const lastEnded = db.prepare("SELECT max(ended) FROM results WHERE exp = ?").pluck();
  for (const e of running) {
    if (e.host !== host) {
      // Another host's process cannot be asked (a killed container had a hostname of its own): its run is taken
      // for abandoned once it has written nothing for an hour, else it could never be resumed or pruned.
      const ended = lastEnded.get(e.seq) as number | null;
      const last = ended !== null ? ended * 1000 : Date.parse(e.created);
      if (Date.now() - last > OTHER_HOST_SILENCE_MS) mark.run(e.seq);
      continue;
    }
    if (e.pid === null) continue;
    if (e.pid === process.pid || isAlive(e.pid)) continue;
    mark.run(e.seq);
  }
}

/** How long a run of another host may write nothing before it counts as abandoned (see markAbandoned). */
const OTHER_HOST_SILENCE_MS = 60 * 60 * 1000;

/**
 * Switches a new store to WAL. SQLite answers "database is locked" at once, without waiting on the busy timeout,
 * when two connections try this together, so retry briefly; once one has switched, the file stays in WAL mode.
 */
function useWal(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      if (db.pragma("journal_mode", { simple: true }) === "wal") return;
      db.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY" || attempt >= 200) throw error;
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0 but will never finish its run.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * Opens (creating when needed) the SQLite store: WAL so readers never block the writer, a busy timeout so two
 * evalrun processes can write one store, migrations forward, and a refusal, touching nothing, of a file that is not
 * ours or was written by a newer evalrun.
 */
export function openStore(location: string | false, options: { create?: boolean } = {}): OpenedStore {
  if (location !== false && options.create === false && !existsSync(location)) {
    throw new EvalrunError(
      "NOT_FOUND",
      `There is no store at ${location} yet, so no experiments.`,
      "Run `evalrun` first (it creates the store), or point --store (or EVALRUN_STORE) at an existing one.",
    );
  }
  if (location === false) {
    const db = sqliteConnection(":memory:");
    migrate(db);
    return { db, location: ":memory:" };
  }
  const dir = path.dirname(location);
  try {
    if (!existsSync(dir)) {
      makeDirs(dir);
      // Keep the store out of commits without asking the user to edit their .gitignore.
      if (path.basename(dir) === ".evalrun") writeFileSync(path.join(dir, ".gitignore"), "*\n");
    }
  } catch (error) {
    throw storeError((error as NodeJS.ErrnoException).code, location, error);
  }
  let db: Database.Database;
  try {
    db = sqliteConnection(location);
  } catch (error) {
    if (isEvalrunError(error)) throw error;
    throw storeError((error as { code?: string }).code, location, error);
  }
  const tooNew = (version: number) => {
    if (version > SCHEMA_VERSION) {
      throw new EvalrunError(
        "STORE_TOO_NEW",
        `The store ${location} was written by a newer evalrun (schema ${version}; this evalrun knows up to ${SCHEMA_VERSION}). Nothing was changed.`,
        "Upgrade evalrun (npm i -D evalrun@latest), or point --store at another path.",
      );
    }
  };
  // Under the migration's write lock, so that another evalrun creating this store at the same moment is seen
  // either not at all or completely.
  const refuse = (version: number) => {
    tooNew(version);
    if (version === 0 && (db.prepare("SELECT count(*) FROM sqlite_master").pluck().get() as number) > 0) {
      throw new EvalrunError(
        "STORE_INVALID",
        `The store ${location} is a SQLite database that evalrun did not create. Nothing was changed.`,
        "Point --store (or EVALRUN_STORE) at another path.",
      );
    }
  };
  try {
    // Read-only checks first: a file that is not a database, or a newer store, is refused before any write.
    const version = db.pragma("user_version", { simple: true }) as number;
    tooNew(version);
    // Another program's database is refused before WAL mode is switched on (a change its own tools would see).
    // One statement reads both, from one snapshot: another evalrun creating this store meanwhile commits its tables
    // and its version together.
    if (version === 0) {
      const seen = db
        .prepare(
          "SELECT (SELECT user_version FROM pragma_user_version) AS version, (SELECT count(*) FROM sqlite_master) AS tables",
        )
        .get() as { version: number; tables: number };
      if (seen.version === 0 && seen.tables > 0) refuse(0);
    }
    // Only a file with no tables yet takes a page size; an existing store keeps the one it was made with.
    if (version === 0) db.pragma(`page_size = ${NEW_STORE_PAGE_SIZE}`);
    useWal(db);
    // Committed transactions survive the process (a crash, kill -9); only an OS crash or power loss can lose
    // them. That trade doubles write speed here, and the store is history, not the only copy of anything.
    db.pragma("synchronous = OFF");
    // A current store needs no migration, nor the write lock that checking under it would take on every open.
    if (version !== SCHEMA_VERSION) {
      // Upgrading a big store can take a while (its results are rewritten): said, so a wait is not taken for a hang.
      if (version > 0)
        process.stderr.write(
          `evalrun: upgrading the store ${location} (schema ${version} → ${SCHEMA_VERSION})…\n`,
        );
      migrate(db, refuse);
    }
    markAbandoned(db);
  } catch (error) {
    db.close();
    if (error instanceof EvalrunError) throw error;
    throw storeError((error as { code?: string }).code, location, error);
  }
  return { db, location };
}

/** Closes a store a run wrote to: its writer thread's connection first, so that this last one checkpoints the WAL. */
export function closeStore(store: OpenedStore): void {
  WriteThread.shutdown(store.location);
  store.db.close();
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

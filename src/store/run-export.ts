import { createWriteStream, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { EvalrunError } from "../define/errors.js";
import { makeDirs } from "../util/make-dirs.js";
import { tempNameFor } from "../util/temp-name.js";
import { EVENT_COLUMNS, EVENT_JOINS, type EventRecord, eventJson } from "./events.js";
import { exportHeader } from "./export.js";
import type { Experiment } from "./types.js";

/**
 * What a run records beside an export for `evalrun merge`: which shard it ran and the eval's own thresholds (merge
 * does not load eval files, yet must gate them the same way).
 */
export interface RunRecord {
  shard?: { index: number; total: number } | undefined;
  /** The run's other selection flags (--first, --sample, --filter), as describeSelection writes them. */
  selection?: string | undefined;
  thresholds?: Record<string, number> | undefined;
}

/**
 * Writes an experiment as a JSONL export (the `evalrun export` format, importable anywhere) whose header line also
 * carries the run's record under `evalrun_run`. Written to a temporary file and renamed: a CI job that uploads the
 * directory never picks up half a file.
 */
export async function writeRunExport(
  db: Database.Database,
  experiment: Experiment,
  file: string,
  run: RunRecord,
): Promise<number> {
  const temp = tempNameFor(file);
  let count = 0;
  try {
    makeDirs(path.dirname(file));
    const out = createWriteStream(temp);
    const opened = new Promise<void>((resolve, reject) =>
      out.once("open", () => resolve()).once("error", reject),
    );
    await opened;
    const write = (text: string) =>
      out.write(text) ? undefined : new Promise<void>((resolve) => out.once("drain", resolve));
    await write(`${JSON.stringify({ ...exportHeader(experiment), evalrun_run: run })}\n`);
    const events = db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}
       WHERE e.exp = ? ORDER BY e.row_index, e.trial_index, e.rowid`,
    );
    for (const record of events.iterate(experiment.seq)) {
      count++;
      await write(`${eventJson(record as EventRecord)}\n`);
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    renameSync(temp, file);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was made (the directory is not one): the error below says why.
    }
    throw new EvalrunError(
      "USAGE",
      `Cannot write the export ${file}: ${(error as Error).message}.`,
      "Point --export at a writable directory.",
      { cause: error },
    );
  }
  return count;
}

/**
 * Makes sure the export directory exists and takes files, before anything runs: a mistake found after the rows
 * have run costs the whole run. Directories are made one level at a time: Node's recursive mkdir loops forever
 * where a parent refuses new entries with ENOENT (under /proc).
 */
export function prepareExportDir(dir: string, shown = dir): void {
  const target = path.resolve(dir);
  try {
    makeDirs(target);
    const probe = path.join(target, `.evalrun-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (error) {
    throw new EvalrunError(
      "USAGE",
      `--export ${shown}: cannot write there (${(error as Error).message}).`,
      "Point --export at a directory evalrun can create or write to; nothing ran.",
      { cause: error },
    );
  }
}

import { createHash } from "node:crypto";
import { createReadStream, renameSync, rmSync, writeFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import type Database from "better-sqlite3";
import { EvalrunError, isEvalrunError } from "../define/errors.js";
import { makeDirs } from "../util/make-dirs.js";
import { tempNameFor } from "../util/temp-name.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "./events.js";
import { Experiments } from "./experiments.js";
import { EXPORT_VERSION } from "./export.js";
import { importFile, withoutBom } from "./import.js";
import type { Experiment } from "./types.js";

/** Committed baselines live in this directory next to the eval file, as snapshots do. */
export const BASELINE_DIR = "__baselines__";

/** Ids of experiments imported from baseline files start with this, so `baseline save` never saves one back. */
export const BASELINE_ID_PREFIX = "baseline-";

/**
 * An eval's baseline file name: its name with every character outside [A-Za-z0-9._-] percent-encoded, so any
 * name maps to one valid file name on every OS and two names never share one.
 */

/** `--baseline` names a file (an export or a committed baseline) rather than an experiment. */
export function isBaselineFileRef(ref: string): boolean {
  return /\.(?:jsonl|json|ndjson)$/i.test(ref);
}

export function baselineFileName(evalName: string): string {
  const parts = [...evalName].map((ch) =>
    /[A-Za-z0-9._-]/.test(ch)
      ? ch
      : [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
  const safe = parts.join("");
  // "." and ".." are directories, not files.
  const name = /^\.+$/.test(safe) ? safe.replaceAll(".", "%2E") : safe;
  if (name.length <= MAX_NAME_BYTES) return `${name}.jsonl`;
  // File names stop at 255 bytes, and each CJK character takes 9 here: a long name keeps a readable start and a
  // digest of the whole (names that fit keep their files, so committed baselines stay where they are).
  let cut = "";
  for (const part of parts) {
    if (cut.length + part.length > MAX_NAME_BYTES - 17) break;
    cut += part;
  }
  return `${cut}~${createHash("sha1").update(evalName).digest("hex").slice(0, 16)}.jsonl`;
}

/** Room for `.jsonl` and a writer's `.<pid>-<n>.tmp` within the 255 bytes most file systems allow a name. */
const MAX_NAME_BYTES = 200;

/**
 * Where an eval's committed baseline is: `<baselineDir>/<eval>.jsonl` when a directory is configured, else
 * `__baselines__/<eval>.jsonl` beside its eval file. Undefined when neither is known.
 */
export function baselinePath(
  evalName: string,
  evalFile: string | undefined,
  baselineDir: string | undefined,
): string | undefined {
  if (baselineDir) return path.join(baselineDir, baselineFileName(evalName));
  if (!evalFile) return undefined;
  return path.join(path.dirname(evalFile), BASELINE_DIR, baselineFileName(evalName));
}

/**
 * A baseline file's rows: what a comparison and a reviewer need (row key, input, expected, output, scores, the
 * error), in data order, one per line. Ids, timings and stacks are left out: they change on every run, and a
 * re-saved baseline should differ only in the rows whose results changed.
 */
function* baselineLines(db: Database.Database, experiment: Experiment): Generator<string> {
  const header = {
    evalrun_export: EXPORT_VERSION,
    experiment: {
      project: experiment.project,
      name: "baseline",
      status: "complete",
      file: experiment.file,
      trial_count: experiment.trialCount,
    },
  };
  yield JSON.stringify(header);
  const events = db.prepare(
    `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}
     WHERE e.exp = ? ORDER BY e.row_index, e.trial_index, e.row_key, e.rowid`,
  );
  for (const record of events.iterate(experiment.seq)) {
    const row = decodeEvent(record as EventRecord);
    yield JSON.stringify({
      row_key: row.row_key,
      ...(row.trial_index > 0 && { trial_index: row.trial_index }),
      input: row.input,
      expected: row.expected,
      output: row.error ? undefined : row.output,
      scores: row.scores,
      ...(row.error && { error: { kind: row.error.kind, message: row.error.message } }),
    });
  }
}

/** Writes an experiment as a baseline file (atomically: a reader never sees half a file); returns its rows. */
export function writeBaselineFile(db: Database.Database, experiment: Experiment, file: string): number {
  const lines = [...baselineLines(db, experiment)];
  const temp = tempNameFor(file);
  try {
    makeDirs(path.dirname(file));
    writeFileSync(temp, `${lines.join("\n")}\n`);
    renameSync(temp, file);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The temp file could not be made either (its name, the directory); the error below says why.
    }
    throw new EvalrunError(
      "USAGE",
      `Cannot write the baseline file ${file}: ${(error as Error).message}.`,
      "Check that the directory is writable, or choose another with --baseline-dir (or `baselineDir` in the config).",
      { cause: error },
    );
  }
  return lines.length - 1;
}

/** The SHA-1 of an eval's name and a file's bytes. */
async function digestOf(file: string, evalName: string): Promise<string> {
  const digest = createHash("sha1").update(`${evalName}\u0000`);
  await new Promise<void>((resolve, reject) => {
    createReadStream(file)
      .on("data", (chunk) => digest.update(chunk))
      .on("end", resolve)
      .on("error", reject);
  });
  return digest.digest("hex");
}

export interface ExportHeader {
  experiment?: { id?: unknown; project?: unknown };
}

/**
 * A JSONL file's first line when it is an evalrun export header (`{ "evalrun_export": ... }`); undefined when it is
 * not one, or is not JSON (an import reports that with its line number).
 */
export async function readExportHeader(file: string): Promise<ExportHeader | undefined> {
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let first: string | undefined;
  try {
    for await (const line of lines) {
      first = withoutBom(line);
      break;
    }
  } catch {
    return undefined;
  } finally {
    lines.close();
  }
  try {
    const parsed = first ? (JSON.parse(first) as unknown) : undefined;
    return typeof parsed === "object" && parsed !== null && "evalrun_export" in parsed
      ? (parsed as ExportHeader)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores a committed baseline file as an experiment, known by the SHA-1 of its bytes (and the eval's name): an unchanged file is
 * imported once, an edited one (a pull, a re-save, a hand edit) again. Refuses a file whose header names another
 * eval, and a malformed line (with its number), before anything is stored.
 */
export async function importBaselineFile(
  db: Database.Database,
  file: string,
  evalName: string,
  shownAs: string,
  evalrunVersion: string,
): Promise<Experiment> {
  if (!(await stat(file).catch(() => undefined))?.isFile()) {
    throw new EvalrunError("NOT_FOUND", `The baseline file ${shownAs} is not a file.`);
  }
  const digest = await digestOf(file, evalName);
  const id = `${BASELINE_ID_PREFIX}${digest.slice(0, 32)}`;
  const existing = new Experiments(db).byId(id);
  if (existing) return existing;
  // A malformed first line is reported by the import below, with its line number.
  const project = (await readExportHeader(file))?.experiment?.project;
  if (project !== undefined && project !== evalName) {
    throw new EvalrunError(
      "IMPORT",
      `The baseline file ${shownAs} holds eval "${String(project)}", not "${evalName}", whose baseline it is named as.`,
      `Re-create it from a run of "${evalName}" with \`evalrun baseline save "${evalName}"\`, or move it to the file of the eval it belongs to.`,
    );
  }
  try {
    return await importFile(db, file, {
      project: evalName,
      name: `${shownAs}@${digest.slice(0, 8)}`,
      evalrunVersion,
      reuseExisting: true,
      id,
    });
  } catch (error) {
    if (!isEvalrunError(error)) throw error;
    throw new EvalrunError(
      error.code,
      error.message.replace(path.resolve(file), shownAs),
      `Fix that line, or re-create the baseline with \`evalrun baseline save "${evalName}"\` after a run you accept. (${error.hint ?? ""})`,
      { cause: error },
    );
  }
}

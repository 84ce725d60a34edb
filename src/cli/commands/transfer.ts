import type Database from "better-sqlite3";
import { EvalrunError } from "../../define/errors.js";
import { colorsFor } from "../../report/colors.js";
import { plural, shownPath } from "../../report/format.js";
import { oneLine } from "../../report/safe-text.js";
import { Experiments } from "../../store/experiments.js";
import { type ExportFormat, exportExperiment } from "../../store/export.js";
import { importFile } from "../../store/import.js";
import { rowCount } from "../../store/rows.js";
import { evalrunVersion } from "../../util/version.js";
import { experimentJson } from "./experiments.js";
import { openCommandStore, type StoreFlags, writeJson } from "./store-access.js";

const FORMATS: ExportFormat[] = ["jsonl", "json", "csv"];

/** `evalrun export EXPERIMENT --format jsonl|json|csv`: its rows as InsertEvents on stdout. */
export async function exportCommand(
  ref: string,
  flags: StoreFlags & { eval?: string; format?: string },
): Promise<number> {
  // --json, which every store command takes, is --format json here (jsonl, the default, is one JSON per line).
  const format = (
    flags.json && (flags.format ?? "jsonl") === "jsonl" ? "json" : (flags.format ?? "jsonl")
  ) as ExportFormat;
  if (flags.json && format !== "json") {
    throw new EvalrunError(
      "USAGE",
      `--json and --format ${format} ask for two formats.`,
      "Give one of them.",
    );
  }
  if (!FORMATS.includes(format)) {
    throw new EvalrunError(
      "USAGE",
      `--format "${flags.format}" is not one of ${FORMATS.join(", ")}.`,
      "e.g. --format jsonl",
    );
  }
  const store = await openCommandStore(flags);
  try {
    const experiments = new Experiments(store.db);
    experiments.checkEval(flags.eval);
    const e = experiments.resolve(ref, flags.eval);
    await exportExperiment(store.db, e, format, process.stdout);
    return 0;
  } finally {
    store.db.close();
  }
}

/** `evalrun import FILE`: an experiment from an export (a CI artifact, a teammate's run). */
export async function importCommand(
  file: string,
  flags: StoreFlags & { eval?: string; name?: string },
): Promise<number> {
  const store = await openCommandStore(flags, true);
  try {
    const e = await importFile(store.db, file, {
      project: flags.eval,
      name: flags.name,
      evalrunVersion: evalrunVersion(),
    });
    const rows = rowCount(store.db, e.seq);
    if (flags.json) writeJson({ experiment: experimentJson(e), rows });
    else {
      const c = colorsFor(process.stdout);
      process.stdout.write(
        `${c.green("imported")} ${plural(rows, "row")} from ${shownPath(file, process.cwd())} as ${c.bold(oneLine(`${e.project} / ${e.name}`))} (id ${e.id})\n`,
      );
    }
    return 0;
  } finally {
    store.db.close();
  }
}

/**
 * `evalrun prune --keep N [EVAL]`: keeps each eval's newest N complete runs of every row (what baselines are made
 * of; imports do not count) and anything newer (an interrupted run may be resumed, a partial one was asked for); deletes the rest, never
 * a running one. Counting every experiment, a few crashed runs used to be kept over the last complete one, and the
 * next run had no baseline. Gives the space back when a quarter of the file or more is free.
 */
export async function pruneCommand(
  evalName: string | undefined,
  flags: StoreFlags & { keep: number },
): Promise<number> {
  const store = await openCommandStore(flags);
  try {
    const experiments = new Experiments(store.db);
    const listed = experiments.list(evalName);
    if (evalName !== undefined && listed.length === 0) {
      const evals = [...new Set(experiments.list().map((e) => e.project))];
      throw new EvalrunError(
        "NOT_FOUND",
        `The store has no experiments of eval "${evalName}"; nothing was removed.`,
        evals.length > 0 ? `Its evals: ${evals.sort().join(", ")}.` : "The store has no experiments yet.",
      );
    }
    const fullKept = new Map<string, number>();
    const doomed = [];
    // A run in progress compares with its baseline when it ends: deleted now, it compared on no rows and failed its
    // gate as if the data had changed.
    const inUse = new Set(
      experiments
        .list()
        .filter((e) => e.status === "running")
        .map((e) => e.baseExperimentId),
    );
    for (const e of listed) {
      const kept = fullKept.get(e.project) ?? 0;
      if (e.status === "running" || inUse.has(e.id)) continue;
      if (kept >= flags.keep) {
        doomed.push(e);
        continue;
      }
      // A committed baseline file read back is not a run: dated when it was read, it counted as the newest and
      // pushed out the runs it was compared with.
      if (e.status === "complete" && e.selection === null && e.source !== "import")
        fullKept.set(e.project, kept + 1);
    }
    experiments.remove(doomed.map((e) => e.seq));
    const reclaimed = doomed.length > 0 ? reclaimSpace(store.db) : 0;
    if (flags.json) writeJson({ removed: doomed.map(experimentJson), reclaimedBytes: reclaimed });
    else {
      for (const e of doomed) process.stdout.write(`removed ${oneLine(`${e.project} / ${e.name}`)}\n`);
      const space =
        reclaimed > 0 ? ` ${(reclaimed / 1024 / 1024).toFixed(1)} MB given back to the disk.` : "";
      process.stdout.write(
        `${plural(doomed.length, "experiment")} removed; kept each eval's newest ${flags.keep} complete ${flags.keep === 1 ? "run" : "runs"} of every row, and any newer.${space}\n`,
      );
    }
    return 0;
  } finally {
    store.db.close();
  }
}

/** VACUUMs when a quarter of the store or more is free pages (SQLite keeps them for reuse, the file stays as big). */
function reclaimSpace(db: Database.Database): number {
  const free = db.pragma("freelist_count", { simple: true }) as number;
  const pages = db.pragma("page_count", { simple: true }) as number;
  if (free === 0 || free * 4 < pages) return 0;
  const size = db.pragma("page_size", { simple: true }) as number;
  db.exec("VACUUM");
  return free * size;
}

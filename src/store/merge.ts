import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type Database from "better-sqlite3";
import { EvalrunError } from "../define/errors.js";
import { Experiments } from "./experiments.js";
import { importFile, withoutBom } from "./import.js";
import { copyRows } from "./rows.js";
import type { RunRecord } from "./run-export.js";
import { sameSelection } from "./selection-text.js";
import type { Experiment, GitInfo } from "./types.js";

/** What the first line of a run's export says about it. */
export interface ShardFile {
  file: string;
  shown: string;
  project: string;
  name: string;
  git: GitInfo | undefined;
  evalFile: string | null;
  trialCount: number;
  status: string;
  duration: number;
  run: RunRecord | undefined;
}

async function firstLine(file: string): Promise<string | undefined> {
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    for await (const line of lines) return withoutBom(line);
  } finally {
    lines.close();
  }
  return undefined;
}

/** Reads an export's header line; refuses a file without one (merge must know each file's eval and shard). */
export async function readShardFile(file: string, cwd: string): Promise<ShardFile> {
  const shown = path.relative(cwd, file) || file;
  let line: string | undefined;
  try {
    line = await firstLine(file);
  } catch (error) {
    throw new EvalrunError(
      "IMPORT",
      `Cannot read ${shown}: ${(error as Error).message}.`,
      "Pass the .jsonl files a run wrote with --export.",
    );
  }
  let header: Record<string, unknown> | undefined;
  try {
    const parsed = line ? (JSON.parse(line) as unknown) : undefined;
    if (typeof parsed === "object" && parsed !== null && "evalrun_export" in parsed)
      header = parsed as typeof header;
  } catch {
    // Reported below: a file whose first line is not a header cannot be placed.
  }
  const experiment = header?.experiment as Record<string, unknown> | undefined;
  if (!experiment || typeof experiment.project !== "string") {
    throw new EvalrunError(
      "IMPORT",
      `${shown}:1 is not an evalrun export header, so merge cannot tell which eval and shard the file holds.`,
      "Merge the files a run wrote with --export DIR (or `evalrun export`), whose first line says so.",
    );
  }
  const summary = experiment.summary as { metrics?: { duration?: { metric?: number } } } | null | undefined;
  return {
    file,
    shown,
    project: experiment.project,
    name: typeof experiment.name === "string" ? experiment.name : "merged",
    git: experiment.git as GitInfo | undefined,
    evalFile: typeof experiment.file === "string" ? experiment.file : null,
    trialCount: typeof experiment.trial_count === "number" ? experiment.trial_count : 1,
    status: typeof experiment.status === "string" ? experiment.status : "complete",
    duration: summary?.metrics?.duration?.metric ?? 0,
    run: header?.evalrun_run as RunRecord | undefined,
  };
}

const shardText = (f: ShardFile) =>
  f.run?.shard ? `${f.run.shard.index}/${f.run.shard.total}` : "unsharded";

/**
 * Refuses a set of one eval's files that would not add up to one run: a shard that did not run to the end, shards
 * of different totals, a shard given twice or missing, or shards from different commits, with different
 * thresholds (another version of the eval), another selection of rows or another number of trials.
 */
export function checkShardSet(files: readonly ShardFile[]): void {
  const project = files[0]?.project ?? "";
  const list = (fs: readonly ShardFile[]) => fs.map((f) => `${f.shown} (${shardText(f)})`).join(", ");
  const unfinished = files.find((f) => f.status !== "complete");
  if (unfinished) {
    throw new EvalrunError(
      "USAGE",
      `${unfinished.shown} holds a run of eval "${project}" (${shardText(unfinished)}) that did not finish (its experiment is ${unfinished.status}): merged, the rows it did not run would be missing, and a gate would pass them.`,
      "Run that shard again to the end (or continue it with --resume and the same flags) and export it again.",
    );
  }
  // As --resume compares them: the same filters in another order select the same rows.
  const first = files[0]?.run?.selection;
  if (files.some((f) => !sameSelection(f.run?.selection, first))) {
    const what = (f: ShardFile) => `${f.shown}: ${f.run?.selection ? `\`${f.run.selection}\`` : "every row"}`;
    throw new EvalrunError(
      "USAGE",
      `The shards of eval "${project}" selected different rows (${files.map(what).join("; ")}): they are not one run.`,
      "Run every shard with the same --first, --sample and --filter flags, and merge the exports of that run.",
    );
  }
  const trials = new Set(files.map((f) => f.trialCount));
  if (trials.size > 1) {
    throw new EvalrunError(
      "USAGE",
      `The shards of eval "${project}" ran different numbers of trials (${files.map((f) => `${f.shown}: ${f.trialCount}`).join("; ")}): merged, rows would be averaged over different counts.`,
      "Run every shard with the same --trials (or trialCount), and merge the exports of that run.",
    );
  }
  const totals = new Set(files.map((f) => f.run?.shard?.total ?? 0));
  if (totals.size > 1) {
    throw new EvalrunError(
      "USAGE",
      `The files of eval "${project}" come from different shardings: ${list(files)}.`,
      "Merge the exports of one run: every job of its matrix ran with the same --shard I/N total.",
    );
  }
  const total = files[0]?.run?.shard?.total;
  if (total !== undefined) {
    for (let index = 1; index <= total; index++) {
      const same = files.filter((f) => f.run?.shard?.index === index);
      if (same.length > 1) {
        throw new EvalrunError(
          "USAGE",
          `Shard ${index}/${total} of eval "${project}" is given twice: ${list(same)}.`,
          "Pass each shard's export once (an artifact downloaded twice, or two runs of one shard?).",
        );
      }
    }
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter(
      (i) => !files.some((f) => f.run?.shard?.index === i),
    );
    if (missing.length > 0) {
      throw new EvalrunError(
        "USAGE",
        `Eval "${project}" lacks shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${total}`).join(", ")} (given: ${list(files)}).`,
        "A gate over part of the rows would pass rows nobody ran: wait for every shard's job, or pass its export.",
      );
    }
  }
  const commits = new Set(files.map((f) => f.git?.commit ?? null).filter((c) => c !== null));
  if (commits.size > 1) {
    throw new EvalrunError(
      "USAGE",
      `The shards of eval "${project}" ran at different commits (${[...commits].join(", ")}): ${list(files)}.`,
      "Merge the exports of one run; stale artifacts from an earlier run are the usual cause.",
    );
  }
  const thresholds = new Set(files.map((f) => JSON.stringify(f.run?.thresholds ?? {})));
  if (thresholds.size > 1) {
    throw new EvalrunError(
      "USAGE",
      `The shards of eval "${project}" record different thresholds (${[...thresholds].join(" vs ")}): they ran different versions of the eval.`,
      "Merge the exports of one run.",
    );
  }
}

/**
 * Joins one eval's files into a new experiment: each is imported (every line checked), rows that two files both
 * hold (the same row key and trial) are refused, and the rows are copied into one experiment in data order. The
 * per-file experiments are removed again.
 */
export async function mergeFiles(
  db: Database.Database,
  files: readonly ShardFile[],
  evalrunVersion: string,
): Promise<Experiment> {
  const experiments = new Experiments(db);
  const parts: Array<{ f: ShardFile; e: Experiment }> = [];
  try {
    for (const f of files) {
      const e = await importFile(db, f.file, { evalrunVersion, id: randomUUID(), name: `${f.name}-part` });
      parts.push({ f, e });
    }
    const seqs = parts.map((p) => p.e.seq);
    const overlap = db
      .prepare(
        `SELECT row_key AS key, trial_index AS trial, group_concat(DISTINCT exp) AS exps FROM results
         WHERE exp IN (${seqs.map(() => "?").join(", ")}) GROUP BY row_key, trial_index
         HAVING count(DISTINCT exp) > 1 ORDER BY row_key LIMIT 3`,
      )
      .all(...seqs) as Array<{ key: string; trial: number; exps: string }>;
    if (overlap.length > 0) {
      const first = overlap[0] as { key: string; trial: number; exps: string };
      const holders = first.exps
        .split(",")
        .map((seq) => parts.find((p) => p.e.seq === Number(seq))?.f.shown)
        .join(" and ");
      throw new EvalrunError(
        "USAGE",
        `Row ${first.key} (trial ${first.trial}) of eval "${files[0]?.project}" is in both ${holders}${overlap.length > 1 ? ", and more rows overlap" : ""}: merged, it would count twice.`,
        "Merge the shards of one run (--shard splits rows so that no row is in two shards), not overlapping runs.",
      );
    }
    const head = files[0] as ShardFile;
    const merged = experiments.create({
      project: head.project,
      name: head.name,
      source: "merge",
      git: head.git ?? { commit: null, branch: null, dirty: null },
      evalrunVersion,
      file: head.evalFile,
      description: parts[0]?.e.description ?? null,
      metadata: parts[0]?.e.metadata ?? {},
      tags: parts[0]?.e.tags ?? [],
      trialCount: head.trialCount,
      // A merge of --first or --filter shards covers those rows only: never a default baseline, as such a run.
      selection: head.run?.selection ?? null,
    });
    for (const p of parts) copyRows(db, p.e.seq, merged.seq, false);
    return merged;
  } finally {
    experiments.remove(parts.map((p) => p.e.seq));
  }
}

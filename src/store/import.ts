import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import type Database from "better-sqlite3";
import { describeValue, EvalrunError } from "../define/errors.js";
import { rowKey } from "../engine/row-key.js";
import type { RowResult } from "../engine/types.js";
import { EvalAggregate } from "../summary/aggregate.js";
import { summarize } from "../summary/summarize.js";
import type { ExperimentSummary } from "../summary/types.js";
import { Experiments } from "./experiments.js";
import { readLinesSync } from "./lines.js";
import { RowWriter } from "./rows.js";
import type { Experiment, ExperimentStatus, GitInfo } from "./types.js";

/** A file's first line without the byte-order mark that Windows editors put before it. */
export const withoutBom = (line: string): string => (line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);

export interface ImportOptions {
  /** The eval the rows belong to; required when the file has no evalrun header line. */
  project?: string | undefined;
  /** The experiment's name; default the header's, else the file's name. */
  name?: string | undefined;
  evalrunVersion: string;
  /** When the experiment's id is already in the store: reuse it (baselines) instead of refusing. */
  reuseExisting?: boolean;
  /** The experiment's id instead of the header's (a committed baseline is known by its content). */
  id?: string | undefined;
}

type Row = Record<string, unknown>;

const isObject = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks a row line and fills in what a plain InsertEvent lacks; returns an error message or the row. */
function checkRow(value: unknown, index: number): RowResult | string {
  if (!isObject(value)) return `expected a JSON object (one row per line), got ${describeValue(value)}`;
  if (!("input" in value)) return "the row has no `input` field";
  if (value.scores !== undefined) {
    if (!isObject(value.scores))
      return `\`scores\` must be an object of name → number, got ${describeValue(value.scores)}`;
    for (const [name, score] of Object.entries(value.scores)) {
      if (
        score !== null &&
        (typeof score !== "number" || !Number.isFinite(score) || score < 0 || score > 1)
      ) {
        return `score "${name}" is ${describeValue(score)}; scores are numbers in [0, 1] or null`;
      }
    }
  }
  for (const key of ["metadata", "metrics"] as const) {
    if (value[key] !== undefined && !isObject(value[key])) return `\`${key}\` must be an object`;
  }
  if (
    value.tags !== undefined &&
    !(Array.isArray(value.tags) && value.tags.every((t) => typeof t === "string"))
  ) {
    return "`tags` must be an array of strings";
  }
  for (const key of ["trial_index", "row_index"] as const) {
    if (value[key] !== undefined && !(Number.isInteger(value[key]) && (value[key] as number) >= 0)) {
      return `\`${key}\` must be a whole number`;
    }
  }
  // Fields are added, never rebuilt, so a file evalrun exported round-trips byte for byte.
  value.id ??= randomUUID();
  value.scores ??= {};
  value.metadata ??= {};
  value.tags ??= [];
  value.metrics ??= { start: 0, end: 0, duration: 0 };
  const metrics = value.metrics as Row;
  if (typeof metrics.duration !== "number") {
    metrics.duration =
      typeof metrics.end === "number" && typeof metrics.start === "number" ? metrics.end - metrics.start : 0;
  }
  if (typeof value.error === "string") value.error = { kind: "task", message: value.error };
  value.row_key ??= rowKey({ input: value.input, id: value.row_id });
  value.row_index ??= index;
  value.trial_index ??= 0;
  return value as unknown as RowResult;
}

interface Header {
  id?: string;
  project?: string;
  name?: string;
  created?: string;
  finished?: string | null;
  status?: ExperimentStatus;
  git?: GitInfo;
  file?: string | null;
  description?: string | null;
  metadata?: Record<string, unknown>;
  tags?: string[];
  trial_count?: number;
  selection?: string | null;
  failure?: string | null;
  summary?: ExperimentSummary | null;
  base_experiment_id?: string | null;
}

/**
 * Reads an export (or any JSONL of InsertEvent rows) into the store as one experiment, streaming, inside one
 * transaction: a malformed line stops the import with its line number and nothing is stored.
 */
export async function importFile(
  db: Database.Database,
  file: string,
  options: ImportOptions,
): Promise<Experiment> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    throw new EvalrunError(
      "IMPORT",
      info?.isDirectory()
        ? `${file} is a directory, not an export file.`
        : `The file ${file} does not exist.`,
      "Pass the path of a .jsonl export.",
    );
  }
  const fail = (line: number, message: string) =>
    new EvalrunError(
      "IMPORT",
      `${file}:${line}: ${message}. Nothing was imported.`,
      "Each line must be one JSON object: an `evalrun export` header first (optional), then one row per line.",
    );
  const experiments = new Experiments(db);
  const aggregate = new EvalAggregate();
  let header: Header | undefined;
  let experiment: Experiment | undefined;
  let writer: RowWriter | undefined;
  let rows = 0;
  let maxTrial = 0;
  let lineNo = 0;

  const start = (): Experiment | undefined => {
    const project = options.project ?? header?.project;
    if (!project) {
      throw new EvalrunError(
        "IMPORT",
        `${file} has no evalrun export header, so it does not say which eval its rows belong to.`,
        "Name the eval: evalrun import FILE --eval NAME.",
      );
    }
    const id = options.id ?? header?.id;
    if (id) {
      const existing = experiments.byId(id);
      if (existing && options.reuseExisting) return existing;
      if (existing) {
        throw new EvalrunError(
          "IMPORT",
          `${file} holds experiment ${id}, which the store already has (${existing.project}/${existing.name}). Nothing was imported.`,
          "Import it into another store (--store), or delete the existing one first.",
        );
      }
    }
    experiment = experiments.create({
      id,
      project,
      name: options.name ?? header?.name ?? path.basename(file).replace(/\.jsonl?$/, ""),
      created: header?.created,
      finished: header?.finished ?? new Date().toISOString(),
      // An experiment that was still running when it was exported is not complete.
      status: header?.status === "complete" || !header?.status ? "complete" : "interrupted",
      source: "import",
      git: header?.git ?? { commit: null, branch: null, dirty: null },
      evalrunVersion: options.evalrunVersion,
      file: header?.file ?? null,
      description: header?.description ?? null,
      metadata: header?.metadata ?? {},
      tags: header?.tags ?? [],
      trialCount: header?.trial_count ?? 1,
      selection: typeof header?.selection === "string" ? header.selection : null,
      failure: header?.status === "interrupted" && typeof header.failure === "string" ? header.failure : null,
      summary: header?.summary ?? null,
      baseExperimentId: header?.base_experiment_id ?? null,
    });
    writer = new RowWriter(db, experiment.seq);
    return undefined;
  };

  // Read synchronously: the transaction (opened by hand for the streamed read) spans no await, so another
  // connection of this process never waits on it.
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const read of readLinesSync(file)) {
      lineNo++;
      const line = lineNo === 1 ? withoutBom(read) : read;
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw fail(lineNo, `not valid JSON (${(error as Error).message})`);
      }
      if (isObject(value) && "evalrun_export" in value) {
        if (lineNo !== 1) throw fail(lineNo, "an export header may only be the first line");
        if (value.evalrun_export !== 1 || !isObject(value.experiment)) {
          throw fail(lineNo, `unsupported export version ${describeValue(value.evalrun_export)}`);
        }
        header = checkedHeader(value.experiment, (message) => fail(lineNo, message));
        const reused = start();
        if (reused) {
          db.exec("ROLLBACK");
          return reused;
        }
        continue;
      }
      if (!writer) start();
      const row = checkRow(value, rows);
      if (typeof row === "string") throw fail(lineNo, row);
      rows++;
      maxTrial = Math.max(maxTrial, row.trial_index);
      aggregate.add(row);
      writer?.write(row);
    }
    if (rows === 0 && !header?.summary) {
      // An experiment of no rows would become the eval's next baseline, with nothing to compare.
      throw new EvalrunError(
        "IMPORT",
        `${file} holds no rows. Nothing was imported.`,
        "Export an experiment with `evalrun export NAME > file.jsonl` and import that file.",
      );
    }
    if (!experiment) start();
    writer?.close();
    aggregate.finish();
    const done = experiment as Experiment;
    // The header's summary (with its comparison) stands only for the rows it describes: a file cut short, edited
    // or rescored gets a summary of the rows it holds.
    const own = summarize(aggregate, { projectName: done.project, experimentName: done.name });
    const summary = header?.summary && describes(header.summary, own) ? header.summary : own;
    db.prepare("UPDATE experiments SET summary = ?, trial_count = ? WHERE seq = ?").run(
      JSON.stringify(summary),
      header?.trial_count ?? maxTrial + 1,
      done.seq,
    );
    db.exec("COMMIT");
    return experiments.bySeq(done.seq);
  } catch (error) {
    (writer as RowWriter | undefined)?.discard();
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Whether a header's summary has the rows' count, errors and every score's mean and count, as computed from them. */
function describes(given: ExperimentSummary, own: ExperimentSummary): boolean {
  if (given.metrics?.rows?.metric !== own.metrics.rows.metric) return false;
  if (given.metrics?.errors?.metric !== own.metrics.errors.metric) return false;
  const names = Object.keys(own.scores);
  if (!isObject(given.scores) || Object.keys(given.scores).length !== names.length) return false;
  return names.every((name) => {
    const a = given.scores[name];
    const b = own.scores[name] as ExperimentSummary["scores"][string];
    if (!a || a.scored !== b.scored) return false;
    if (a.score === null || b.score === null) return a.score === b.score;
    return Math.abs(a.score - b.score) <= 1e-9;
  });
}

/**
 * The header with its times as ISO timestamps, which the store sorts as text: a date in another form ("Mon, 01 Jan
 * 2024", an epoch number) would sort as newest or oldest whatever its time, and become the default baseline, or
 * make `prune` delete newer runs. A date that parses is converted; one that does not is refused.
 */
function checkedHeader(experiment: Record<string, unknown>, fail: (message: string) => Error): Header {
  const header = { ...experiment } as Header & Record<string, unknown>;
  for (const field of ["created", "finished"] as const) {
    const given: unknown = experiment[field];
    if (given == null) continue;
    const time =
      typeof given === "string" || typeof given === "number" ? new Date(given).getTime() : Number.NaN;
    if (Number.isNaN(time))
      throw fail(
        `the header's experiment.${field} is ${describeValue(given)}, not a date (an ISO timestamp)`,
      );
    header[field] = new Date(time).toISOString();
  }
  for (const field of ["project", "name", "id"] as const) {
    const given: unknown = experiment[field];
    if (given != null && typeof given !== "string")
      throw fail(`the header's experiment.${field} is ${describeValue(given)}, not a string`);
  }
  return header;
}

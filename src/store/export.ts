import type { Writable } from "node:stream";
import type Database from "better-sqlite3";
import type { RowResult } from "../engine/types.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord, eventJson } from "./events.js";
import type { Experiment } from "./types.js";

export type ExportFormat = "jsonl" | "json" | "csv";

export const EXPORT_VERSION = 1;

/** The first line of a JSONL export: the experiment itself, so an import can restore it exactly. */
export function exportHeader(e: Experiment): { evalrun_export: number; experiment: Record<string, unknown> } {
  return {
    evalrun_export: EXPORT_VERSION,
    experiment: {
      id: e.id,
      project: e.project,
      name: e.name,
      created: e.created,
      finished: e.finished,
      status: e.status,
      git: e.git,
      evalrun_version: e.evalrunVersion,
      file: e.file,
      description: e.description,
      metadata: e.metadata,
      tags: e.tags,
      trial_count: e.trialCount,
      // Only a run of some rows says which: an import without it is a run of every row (a default baseline).
      ...(e.selection !== null && { selection: e.selection }),
      ...(e.failure !== null && { failure: e.failure }),
      summary: e.summary,
      base_experiment_id: e.baseExperimentId,
    },
  };
}

/**
 * Resolves once the stream has taken the chunk (respecting back-pressure, so a huge export stays small in memory),
 * or can take nothing more: `evalrun export ... | head` closes the pipe, and no `drain` ever comes after EPIPE (the
 * process then ended with exit 13, failing `set -o pipefail` scripts).
 */
function write(out: Writable, chunk: string): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("error", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("error", done);
    out.once("close", done);
  });
}

const cell = (value: unknown) =>
  value === undefined ? "" : typeof value === "string" ? value : (JSON.stringify(value) ?? "");

/** Writes an experiment's rows (InsertEvent shape) as JSONL (header line first), one JSON document, or CSV. */
export async function exportExperiment(
  db: Database.Database,
  experiment: Experiment,
  format: ExportFormat,
  out: Writable,
): Promise<number> {
  // Data order, not finish order: exports of the same data diff cleanly.
  const events = db.prepare(
    `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}
     WHERE e.exp = ? ORDER BY e.row_index, e.trial_index, e.rowid`,
  );
  let count = 0;
  if (format === "jsonl") {
    await write(out, `${JSON.stringify(exportHeader(experiment))}\n`);
    for (const record of events.iterate(experiment.seq)) {
      count++;
      await write(out, `${eventJson(record as EventRecord)}\n`);
    }
    return count;
  }
  if (format === "json") {
    const header = JSON.stringify(exportHeader(experiment).experiment);
    await write(out, `{"evalrun_export":${EXPORT_VERSION},"experiment":${header},"rows":[`);
    for (const record of events.iterate(experiment.seq)) {
      await write(out, `${count++ === 0 ? "\n" : ",\n"}${eventJson(record as EventRecord)}`);
    }
    await write(out, "\n]}\n");
    return count;
  }
  // Score columns in the order the summary lists the scores (the scorers'), then any other the rows hold.
  const stored = db
    .prepare(
      "SELECT je.key FROM results, json_each(results.scores) AS je WHERE exp = ? GROUP BY je.key ORDER BY min(results.rowid), min(je.id)",
    )
    .pluck()
    .all(experiment.seq) as string[];
  const summaryOrder = Object.keys(experiment.summary?.scores ?? {});
  const names = [
    ...summaryOrder.filter((n) => stored.includes(n)),
    ...stored.filter((n) => !summaryOrder.includes(n)),
  ];
  const columns = ["id", "row_key", "row_index", "trial_index", "input", "output", "expected", "error"];
  const header = [...columns, ...names.map((n) => `score:${n}`), "metadata", "tags", "duration_s"];
  // Loaded for CSV only: this module is also read at start-up (baseline files share its header format).
  const { stringify } = await import("csv-stringify/sync");
  await write(out, stringify([header]));
  for (const stored of events.iterate(experiment.seq)) {
    const row = decodeEvent(stored as EventRecord);
    count++;
    const record = [
      row.id,
      row.row_key,
      row.row_index,
      row.trial_index,
      cell(row.input),
      cell(row.output),
      cell(row.expected),
      errorCell(row),
      ...names.map((n) => cell(row.scores[n] ?? undefined)),
      cell(row.metadata),
      cell(row.tags),
      row.metrics.duration,
    ];
    await write(out, stringify([record]));
  }
  return count;
}

/** The CSV's `error` column: the row's error, else its scorers' errors (an empty score cell alone reads as "not scored"). */
function errorCell(row: RowResult): string {
  if (row.error) return `${row.error.kind}: ${row.error.message}`;
  const scoreErrors = Object.entries(row.score_errors ?? {});
  return scoreErrors.map(([name, message]) => `score ${name}: ${message}`).join("\n");
}

import type Database from "better-sqlite3";
import type { RowResult } from "../../engine/types.js";
import { signedPercent } from "../../gate/format.js";
import { colorsFor } from "../../report/colors.js";
import { formatPercent, formatSeconds, plural, tokenTotals } from "../../report/format.js";
import { reasonsOf } from "../../report/reasons.js";
import {
  hanging,
  inertForActions,
  onActions,
  oneLine,
  printable,
  rowLabel,
  short,
} from "../../report/safe-text.js";
import { preview, shortDate } from "../../report/values.js";
import { firstResultsOf } from "../../store/compare.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "../../store/events.js";
import { Experiments } from "../../store/experiments.js";
import { rowCount } from "../../store/rows.js";
import type { Experiment } from "../../store/types.js";
import { stable } from "../../summary/stable.js";
import { experimentJson } from "./experiments.js";
import { openCommandStore, type StoreFlags, writeJson } from "./store-access.js";
import { summaryOf } from "./stored-summary.js";

export interface LowRow {
  row_key: string;
  /** Mean of the row's numeric scores over all its trials. */
  mean: number;
  /** Each score's mean over the row's trials (the first trial's alone did not make up `mean`). */
  scores: Record<string, number | null>;
  input: unknown;
  output: unknown;
  expected: unknown;
  error: string | undefined;
  /** Each score's reason, where its scorer gave one (an LLM judge's choice and rationale); absent when none did. */
  reasons?: Record<string, string>;
}

/** The rows whose mean score (over every score and trial) is lowest, with each score's mean and their lowest result's values. */
export function lowestRows(db: Database.Database, e: Experiment, limit: number): LowRow[] {
  const low = db
    .prepare(
      `SELECT row_key AS key, avg(je.value) AS mean FROM results, json_each(results.scores) AS je
       WHERE exp = ? AND je.type IN ('integer', 'real') GROUP BY row_key ORDER BY mean ASC, row_key LIMIT ?`,
    )
    .all(e.seq, limit) as Array<{ key: string; mean: number }>;
  const first = firstResultsOf(
    db,
    e.seq,
    low.map((r) => r.key),
    "lowest",
  );
  const means = new Map<string, Record<string, number | null>>();
  const perScore = db.prepare(
    `SELECT je.key AS name, avg(je.value) AS mean FROM results, json_each(results.scores) AS je
     WHERE exp = ? AND row_key = ? AND je.type IN ('integer', 'real') GROUP BY je.key`,
  );
  for (const { key } of low) {
    const scores: Record<string, number | null> = {};
    for (const r of perScore.all(e.seq, key) as Array<{ name: string; mean: number }>)
      scores[r.name] = stable(r.mean);
    means.set(key, scores);
  }
  return low.map(({ key, mean }) => {
    const row = first.get(key) ?? ({ scores: {} } as unknown as RowResult);
    const reasons = reasonsOf(row);
    // Scores no trial gave a number (null, or the scorer errored) stay as the first result has them.
    const scores = { ...row.scores, ...means.get(key) };
    return {
      row_key: key,
      mean,
      scores,
      input: row.input,
      output: row.output,
      expected: row.expected,
      error: row.error?.message,
      ...(Object.keys(reasons).length > 0 ? { reasons } : {}),
    };
  });
}

export interface ErroredRow {
  row_index: number;
  /** The row's id, when the data gives one. */
  row_id?: string | undefined;
  trial_index: number;
  /** "task", "timeout", "data", or "score" for a scorer's error. */
  kind: string;
  message: string;
}

/** The first `limit` errors of an experiment, in the order its results were stored: task errors, then scorers'. */
export function firstErrors(db: Database.Database, e: Experiment, limit: number): ErroredRow[] {
  const records = db
    .prepare(
      `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS} WHERE e.exp = ? AND e.errored = 1 ORDER BY e.rowid LIMIT ?`,
    )
    .all(e.seq, limit) as EventRecord[];
  const found: ErroredRow[] = [];
  for (const record of records) {
    const row = decodeEvent(record);
    const at = { row_index: row.row_index, row_id: row.row_id, trial_index: row.trial_index };
    if (row.error) found.push({ ...at, kind: row.error.kind, message: row.error.message });
    for (const message of Object.values(row.score_errors ?? {}))
      found.push({ ...at, kind: "score", message });
  }
  return found.slice(0, limit);
}

/** `evalrun show EXPERIMENT`: its record, summary, and lowest-scoring rows. */
export async function showCommand(
  ref: string,
  flags: StoreFlags & { eval?: string; rows?: number },
): Promise<number> {
  const store = await openCommandStore(flags);
  try {
    const experiments = new Experiments(store.db);
    experiments.checkEval(flags.eval);
    const e = experiments.resolve(ref, flags.eval);
    const low = lowestRows(store.db, e, flags.rows ?? 5);
    const errors = firstErrors(store.db, e, flags.rows ?? 5);
    const erroredRows = (
      store.db.prepare("SELECT count(*) AS n FROM results WHERE exp = ? AND errored = 1").get(e.seq) as {
        n: number;
      }
    ).n;
    if (flags.json) {
      writeJson({
        experiment: experimentJson(e),
        rows: rowCount(store.db, e.seq),
        errored: erroredRows,
        lowest: low,
        errors,
      });
      return 0;
    }
    const c = colorsFor(process.stdout);
    const base = e.baseExperimentId ? experiments.byId(e.baseExperimentId) : undefined;
    const lines = [
      `${c.bold(oneLine(`${e.project} / ${e.name}`))}  ${c.dim(`(${e.status === "interrupted" && e.failure ? "failed" : e.status}${e.source === "import" ? ", imported" : ""})`)}`,
    ];
    const git = e.git.commit
      ? ` · git ${e.git.branch ?? "?"}@${e.git.commit}${e.git.dirty ? " (uncommitted changes)" : ""}`
      : "";
    lines.push(`  ${c.dim("id")}          ${e.id}`);
    lines.push(`  ${c.dim("created")}     ${shortDate(e.created)} UTC${git} · evalrun ${e.evalrunVersion}`);
    if (e.file) lines.push(`  ${c.dim("file")}        ${e.file}`);
    if (e.description) lines.push(`  ${c.dim("description")} ${e.description}`);
    if (e.selection) lines.push(`  ${c.dim("selection")}   ${e.selection} (some rows only)`);
    if (base) lines.push(`  ${c.dim("baseline")}    ${oneLine(base.name)}`);
    if (e.status === "interrupted" && e.failure)
      lines.push(`  ${c.dim("failed")}      ${c.red(oneLine(e.failure))} (--resume continues it once fixed)`);
    // A run that never finished (killed, crashed) stored no summary: its scores are worked out from its rows.
    const summary = summaryOf(store.db, e);
    const m = e.summary?.metrics;
    lines.push(
      `  ${c.dim("rows")}        ${rowCount(store.db, e.seq)} results · ${erroredRows > 0 ? c.red(plural(erroredRows, "error")) : "0 errors"}${m ? ` · ${formatSeconds(m.duration.metric)}` : ""}`,
    );
    const tokens = summary ? tokenTotals(summary.metrics) : undefined;
    if (tokens !== undefined) lines.push(`  ${c.dim("tokens")}      ${tokens}`);
    const scores = Object.values(summary?.scores ?? {});
    if (scores.length > 0) {
      lines.push(`  ${c.dim(e.summary ? "scores" : "scores of the rows stored (the run did not finish)")}`);
      const width = Math.max(...scores.map((s) => oneLine(s.name).length));
      for (const s of scores) {
        const diff =
          s.diff === null
            ? ""
            : `  (${signedPercent(s.diff)})  ${plural(s.improvements, "improvement")}  ${plural(s.regressions, "regression")}`;
        const failed = s.errors > 0 ? ` · ${c.red(plural(s.errors, "error"))}` : "";
        lines.push(
          `    ${oneLine(s.name).padEnd(width)}  ${formatPercent(s.score).padStart(6)}  ${c.dim(`${s.scored} scored`)}${failed}${diff}`,
        );
      }
    }
    if (low.length > 0) {
      lines.push(`  ${c.dim("lowest-scoring rows")}`);
      for (const r of low) {
        const each = Object.entries(r.scores)
          .map(([n, v]) => `${n} ${v === null ? "–" : v.toFixed(2)}`)
          .join(" · ");
        lines.push(`    ${c.bold(r.row_key)}  mean ${r.mean.toFixed(2)}  ${c.dim(each)}`);
        lines.push(`      ${c.dim("input   ")} ${preview(r.input)}`);
        lines.push(`      ${c.dim("output  ")} ${r.error ? c.red(oneLine(r.error)) : preview(r.output)}`);
        lines.push(`      ${c.dim("expected")} ${preview(r.expected)}`);
        // Why a judge scored it so: the first question after a drop; it was only in `export`.
        for (const [name, why] of Object.entries(r.reasons ?? {}))
          lines.push(`      ${c.dim("why     ")} ${oneLine(name)}: ${short(why, 200)}`);
      }
    }
    if (errors.length > 0) {
      lines.push(
        `  ${c.dim("errors")}${erroredRows > errors.length ? c.dim(` (the first ${errors.length})`) : ""}`,
      );
      for (const r of errors) {
        const trial = r.trial_index > 0 ? ` trial ${r.trial_index}` : "";
        // A message is the user's text (a model's output, a stack): shown, not acted on by the terminal.
        lines.push(
          `    ${c.red(`${rowLabel(r.row_index, r.row_id)}${trial}`)} ${c.dim(r.kind)}  ${hanging(printable(r.message), "      ")}`,
        );
      }
    }
    const text = `${lines.join("\n")}\n`;
    // On GitHub Actions a stored message must not run as a workflow command (`::stop-commands::`...).
    process.stdout.write(onActions() ? inertForActions(text) : text);
    return 0;
  } finally {
    store.db.close();
  }
}

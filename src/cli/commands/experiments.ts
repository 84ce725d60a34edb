import type Database from "better-sqlite3";
import { colorsFor } from "../../report/colors.js";
import { formatPercent, plural } from "../../report/format.js";
import { oneLine } from "../../report/safe-text.js";
import { shortDate, table } from "../../report/values.js";
import { Experiments } from "../../store/experiments.js";
import { rowCount } from "../../store/rows.js";
import type { Experiment } from "../../store/types.js";
import { openCommandStore, type StoreFlags, writeJson } from "./store-access.js";

/** An experiment as `--json` shows it: the stored record without the internal key. */
export function experimentJson(e: Experiment): Omit<Experiment, "seq"> {
  const { seq: _seq, ...rest } = e;
  return rest;
}

/** `evalrun experiments [EVAL]`: the history, newest first. */
export async function experimentsCommand(evalName: string | undefined, flags: StoreFlags): Promise<number> {
  const store = await openCommandStore(flags);
  try {
    const list = new Experiments(store.db).list(evalName);
    if (flags.json) {
      writeJson(list.map(experimentJson));
      return 0;
    }
    const c = colorsFor(process.stdout);
    if (list.length === 0) {
      process.stdout.write(
        evalName ? `No experiments of eval "${evalName}" yet.\n` : "No experiments yet.\n",
      );
      return 0;
    }
    const rows = [
      ["EVAL", "EXPERIMENT", "CREATED (UTC)", "COMMIT", "ROWS", "ERRORS", "STATUS", "SCORES"].map((h) =>
        c.dim(h),
      ),
    ];
    for (const e of list) {
      const m = e.summary?.metrics;
      // A run that was killed stored no summary: its scores and errors come from the rows it committed.
      const stored = !e.summary && e.status !== "running" ? storedScores(store.db, e.seq) : undefined;
      const scores = (stored?.scores ?? Object.values(e.summary?.scores ?? {}))
        .map((s) => `${oneLine(s.name)} ${formatPercent(s.score)}`)
        .join(" · ");
      const status =
        e.status === "complete"
          ? e.status
          : e.status === "running"
            ? c.cyan(e.status)
            : e.failure
              ? c.red("failed")
              : c.yellow(e.status);
      rows.push([
        oneLine(e.project),
        oneLine(e.name),
        shortDate(e.created),
        e.git.commit ? `${e.git.commit}${e.git.dirty ? "*" : ""}` : "–",
        // An experiment whose run crashed has no summary, yet holds the rows it committed.
        m ? String(m.rows.metric) : String(rowCount(store.db, e.seq)),
        errorCell(m?.errors.metric ?? stored?.errors),
        e.source === "import" ? `${status} (imported)` : status,
        scores,
      ]);
    }
    function errorCell(errors: number | undefined): string {
      return errors === undefined ? "–" : errors > 0 ? c.red(String(errors)) : "0";
    }
    process.stdout.write(
      `${table(rows)}\n${c.dim(`${plural(list.length, "experiment")}; * = uncommitted changes`)}\n`,
    );
    return 0;
  } finally {
    store.db.close();
  }
}

/** Each score's mean and the errored results of an experiment's stored rows, in SQL (no row is decoded). */
function storedScores(
  db: Database.Database,
  seq: number,
): { scores: Array<{ name: string; score: number }>; errors: number } {
  const scores = db
    .prepare(
      `SELECT je.key AS name, avg(je.value) AS score FROM results, json_each(results.scores) AS je
       WHERE exp = ? AND je.type IN ('integer', 'real') GROUP BY je.key ORDER BY min(results.rowid)`,
    )
    .all(seq) as Array<{ name: string; score: number }>;
  const errors = db
    .prepare("SELECT count(*) FROM results WHERE exp = ? AND errored = 1")
    .pluck()
    .get(seq) as number;
  return { scores, errors };
}

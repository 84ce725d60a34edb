import { EvalrunError } from "../../define/errors.js";
import type { RowResult } from "../../engine/types.js";
import { signedPercent } from "../../gate/format.js";
import { colorsFor } from "../../report/colors.js";
import { formatPercent, plural } from "../../report/format.js";
import { reasonsOf } from "../../report/reasons.js";
import { inertForActions, onActions, oneLine, short } from "../../report/safe-text.js";
import { preview, table } from "../../report/values.js";
import {
  chosenResultsOf,
  compareExperiments,
  mostRegressed,
  type ResultChoice,
  sameRowsIn,
} from "../../store/compare.js";
import { Experiments } from "../../store/experiments.js";
import type { Experiment } from "../../store/types.js";
import { experimentJson } from "./experiments.js";
import { openCommandStore, type StoreFlags, writeJson } from "./store-access.js";
import { summaryOf } from "./stored-summary.js";

// As the run prints a change: two significant digits when one decimal would show a real change as 0.0%.
const pct = (d: number | null) => (d === null ? "–" : signedPercent(d));

/**
 * A and B, of one eval. Default names repeat across evals (one run names each eval's experiment alike), so a name
 * that names one experiment settles the eval of the other; only when neither does is --eval needed.
 */
function resolvePair(
  experiments: Experiments,
  refA: string,
  refB: string,
  project: string | undefined,
): [Experiment, Experiment] {
  if (project !== undefined || experiments.find(refA).length === 1) {
    const a = experiments.resolve(refA, project);
    const others = experiments.find(refB);
    // B is there, of another eval: that is what to say, not that B does not exist.
    if (others.length > 0 && others.every((e) => e.project !== a.project)) {
      throw new EvalrunError(
        "USAGE",
        `${refA} is an experiment of eval "${a.project}", and ${refB} of ${[...new Set(others.map((e) => `"${e.project}"`))].join(", ")}: compare shows how one eval's scores moved between two of its experiments.`,
        `Compare two experiments of one eval (\`evalrun experiments ${a.project}\` lists "${a.project}"'s).`,
      );
    }
    return [a, experiments.resolve(refB, project ?? a.project)];
  }
  const unique = experiments.find(refB);
  if (unique.length === 1 && unique[0]) return [experiments.resolve(refA, unique[0].project), unique[0]];
  // Each names several: the evals both name, if one.
  const shared = experiments
    .find(refA)
    .map((e) => e.project)
    .filter((p) => unique.some((e) => e.project === p));
  if (shared.length === 1 && shared[0] !== undefined) {
    return [experiments.resolve(refA, shared[0]), experiments.resolve(refB, shared[0])];
  }
  return [experiments.resolve(refA), experiments.resolve(refB)];
}

/** `evalrun compare A B`: how B's scores moved from A's, and the rows that fell the most. */
export async function compareCommand(
  refA: string,
  refB: string,
  flags: StoreFlags & { eval?: string; rows?: number },
): Promise<number> {
  const store = await openCommandStore(flags);
  try {
    const experiments = new Experiments(store.db);
    experiments.checkEval(flags.eval);
    const [a, b] = resolvePair(experiments, refA, refB, flags.eval);
    const moved = compareExperiments(store.db, b.seq, a.seq);
    // A run killed or still running stored no summary: its means are its rows'.
    const [sa, sb] = [summaryOf(store.db, a), summaryOf(store.db, b)];
    const names = [...new Set([...Object.keys(sa?.scores ?? {}), ...Object.keys(sb?.scores ?? {})])];
    const scores = names.map((name) => {
      const before = sa?.scores[name]?.score ?? null;
      const after = sb?.scores[name]?.score ?? null;
      const m = moved.scores[name];
      return {
        name,
        before,
        after,
        diff: before !== null && after !== null ? after - before : null,
        matched: m?.matched ?? 0,
        improvements: m?.improvements ?? 0,
        regressions: m?.regressions ?? 0,
      };
    });
    const deltas = mostRegressed(store.db, b.seq, a.seq, flags.rows ?? 5);
    // Each (row, score) listed shows the row's lowest result by that score, and the baseline's result of that same
    // row: one pick per score, since a row listed under two scores may have a different lowest result in each.
    const picked = new Map<string, { afters: Map<string, RowResult>; befores: Map<string, RowResult> }>();
    for (const score of new Set(deltas.map((d) => d.score))) {
      const choices = new Map<string, ResultChoice>();
      for (const d of deltas) if (d.score === score) choices.set(d.rowKey, { kind: "lowest", score });
      const afters = chosenResultsOf(store.db, b.seq, choices);
      picked.set(score, { afters, befores: sameRowsIn(store.db, a.seq, afters) });
    }
    const regressed = deltas.map((d) => {
      const before: Partial<RowResult> = picked.get(d.score)?.befores.get(d.rowKey) ?? {};
      const after: Partial<RowResult> = picked.get(d.score)?.afters.get(d.rowKey) ?? {};
      return {
        row_key: d.rowKey,
        score: d.score,
        before: d.before,
        after: d.after,
        input: after.input,
        expected: after.expected,
        output_before: before.error ? undefined : before.output,
        output_after: after.error ? undefined : after.output,
        why_after: reasonsOf(after)[d.score],
        error_before: before.error?.message,
        error_after: after.error?.message,
      };
    });
    if (flags.json) {
      writeJson({
        a: experimentJson(a),
        b: experimentJson(b),
        matched_rows: moved.matchedRows,
        only_in_a: moved.onlyBase,
        only_in_b: moved.onlyNew,
        scores,
        most_regressed: regressed,
      });
      return 0;
    }
    const c = colorsFor(process.stdout);
    const lines = [
      `${c.bold(oneLine(a.project === b.project ? a.project : `${a.project} vs ${b.project}`))}: ${oneLine(a.name)} → ${oneLine(b.name)}`,
    ];
    lines.push(
      `  ${plural(moved.matchedRows, "row")} matched · ${moved.onlyBase} only in ${oneLine(a.name)} · ${moved.onlyNew} only in ${oneLine(b.name)}`,
    );
    const header = ["score", a.name, b.name, "diff", "improvements", "regressions"].map((h) => c.dim(h));
    const body = scores.map((s) => [
      s.name,
      formatPercent(s.before),
      formatPercent(s.after),
      s.diff === null
        ? "–"
        : s.diff > 0.0005
          ? c.green(pct(s.diff))
          : s.diff < -0.0005
            ? c.red(pct(s.diff))
            : pct(s.diff),
      String(s.improvements),
      s.regressions > 0 ? c.red(String(s.regressions)) : "0",
    ]);
    lines.push(
      table([header, ...body])
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n"),
    );
    if (regressed.length > 0) {
      lines.push(`  ${c.dim("most regressed rows")}`);
      // Both names in full, aligned: two runs of one commit differ only in their last characters.
      const width = Math.max(10, a.name.length, b.name.length);
      for (const r of regressed) {
        lines.push(
          `    ${c.bold(r.row_key)}  ${r.score} ${r.before.toFixed(2)} → ${c.red(r.after.toFixed(2))}`,
        );
        lines.push(`      ${c.dim("input".padEnd(width))} ${preview(r.input)}`);
        lines.push(`      ${c.dim("expected".padEnd(width))} ${preview(r.expected)}`);
        lines.push(
          `      ${c.dim(a.name.padEnd(width))} ${r.error_before ? c.red(r.error_before) : preview(r.output_before)}`,
        );
        lines.push(
          `      ${c.dim(b.name.padEnd(width))} ${r.error_after ? c.red(r.error_after) : preview(r.output_after)}`,
        );
        if (r.why_after)
          lines.push(`      ${c.dim("why".padEnd(width))} ${short(oneLine(r.why_after), 200)}`);
      }
    }
    const text = `${lines.join("\n")}\n`;
    // Outputs and judges' reasons are model text: on GitHub Actions none may run as a workflow command.
    process.stdout.write(onActions() ? inertForActions(text) : text);
    return 0;
  } finally {
    store.db.close();
  }
}

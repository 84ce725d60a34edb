import type { ExperimentSummary } from "../summary/types.js";
import { closestName } from "../util/suggest.js";
import { bracket, confidenceLabel, percent, signedPercent } from "./format.js";
import { effectiveRule, namedRules, type ScoreRule } from "./thresholds.js";
import type { EvalGate, EvalStats, GateCheck, GateOptions, ScoreChange, WorstRow } from "./types.js";

/** Differences smaller than this are float noise, not movement. */
const EPSILON = 1e-9;

/**
 * Below this many matched rows the interval is of a handful of differences (of one, a point): a deterministic
 * scorer's drop is still a drop, but a noisy judge's may be chance (1 row failed 30% of pure-noise runs).
 */
const FEW_ROWS = 10;
const FEW_ROWS_NOTE =
  " (few rows: a noisy scorer can fail this by chance; more rows, --trials or --max-drop make the gate steadier)";

/** How many of the most regressed rows a failed regression shows. */
export const WORST_ROWS = 5;

export interface EvalGateInput {
  evalName: string;
  summary: ExperimentSummary;
  stats: EvalStats;
  /** Names of the eval's scorer functions: a threshold on one of them is not a typo even if no row was scored. */
  scorerNames: readonly string[];
  /** The baseline's name, when the eval has one. */
  baseline: string | undefined;
  /** Scores the baseline scored at least one row of: each must be compared again, or the gate fails. */
  baselineScores: readonly string[];
  /** Row keys in both this run and the baseline. */
  matchedRows: number;
  onlyNew: number;
  onlyBase: number;
  /** `--min-score` rules and the eval's own `thresholds`. */
  rules: readonly ScoreRule[];
  /** `--row-threshold` rules: checked here only for the scores they name. */
  rowRules: readonly ScoreRule[];
  options: GateOptions;
  worstRows(score: string): WorstRow[];
}

function thresholdCheck(input: EvalGateInput, score: string, rule: ScoreRule): GateCheck {
  const mean = input.summary.scores[score]?.score ?? null;
  const base = { kind: "threshold" as const, score, threshold: rule.value };
  if (mean === null) {
    return {
      ...base,
      status: "fail",
      message: `${score}: no row was scored, so it cannot reach its minimum ${percent(rule.value)} (${rule.source})`,
    };
  }
  if (mean < rule.value) {
    return {
      ...base,
      status: "fail",
      message: `${score} ${percent(mean)} is below its minimum ${percent(rule.value)} (${rule.source})`,
    };
  }
  return { ...base, status: "pass", message: `${score} ${percent(mean)} >= ${percent(rule.value)}` };
}

/** A rule naming a score this eval never produced: a typo or a renamed scorer, which must not pass silently. */
function unknownScore(input: EvalGateInput, rule: ScoreRule & { score: string }): GateCheck {
  const known = Object.keys(input.summary.scores);
  const near = closestName(rule.score, [...known, ...input.scorerNames]);
  return {
    kind: "threshold",
    score: rule.score,
    status: "error",
    threshold: rule.value,
    message: `${rule.source} names the score "${rule.score}", which no scorer of eval "${input.evalName}" produced (its scores: ${known.join(", ")}).${near ? ` Did you mean "${near}"?` : ""}`,
    hint: "Use a score name from the summary above: a scorer's function name, or the `name` of the Score objects it returns.",
  };
}

/**
 * The means' change where it differs from the matched rows' by more than this: said beside a passing gate, since
 * rows scored on one side only (a per-label score newly scored on rows, a subset run) are not gated, and a 100% ->
 * 48.5% mean read "+0.0% ... within noise".
 */
const APART = 0.05;

export function regressionCheck(
  score: string,
  change: ScoreChange,
  options: Pick<GateOptions, "maxDrop" | "confidence" | "requireBaseline">,
  /** The change of the two means (the summary's `diff`), when known. */
  meansDiff?: number | null,
): GateCheck {
  const est = change.estimate;
  if (!est || change.matched === 0) {
    return {
      kind: "regression",
      score,
      status: options.requireBaseline ? "fail" : "pass",
      message: `${score}: no row was scored in both this run and the baseline, so nothing was compared${options.requireBaseline ? " (--require-baseline)" : ""}`,
    };
  }
  const ci = `${bracket(est, true)} at ${confidenceLabel(options.confidence)}`;
  const rows = `over ${change.matched} matched row${change.matched === 1 ? "" : "s"}; ${change.regressions} regressed, ${change.improvements} improved`;
  const drop = -est.mean;
  const beyondNoise = est.high < -EPSILON;
  if (beyondNoise && drop > options.maxDrop + EPSILON) {
    return {
      kind: "regression",
      score,
      status: "fail",
      message: `${score} dropped ${percent(drop)} ${ci} ${rows}${change.matched < FEW_ROWS ? FEW_ROWS_NOTE : ""}`,
    };
  }
  const why = beyondNoise
    ? `within --max-drop ${percent(options.maxDrop)}`
    : est.low > EPSILON
      ? "improved"
      : "within noise";
  const apart =
    typeof meansDiff === "number" && Math.abs(meansDiff - est.mean) > APART
      ? `; its mean moved ${signedPercent(meansDiff)}: rows scored on one side only, and rows sharing a key, count in the mean but not in the gate`
      : "";
  return {
    kind: "regression",
    score,
    status: "pass",
    message: `${score} ${signedPercent(est.mean)} ${ci} ${rows}: ${why}${apart}`,
  };
}

const SAVE_HINT = "if the change is intended, save a new baseline (`evalrun baseline save`)";

/**
 * A score the baseline scored that this run compared on no row: a renamed or removed scorer, one that now returns
 * null, inputs whose every row key changed. The regression gate could not look, so it must not pass: those are
 * the edits that would otherwise switch it off silently.
 */
function nothingCompared(input: EvalGateInput, score: string): GateCheck {
  const scored = input.summary.scores[score]?.scored ?? 0;
  const allErrored = (input.summary.metrics.errors?.metric ?? 0) >= input.summary.metrics.rows.metric;
  const why =
    input.summary.metrics.rows.metric === 0
      ? "this run has no rows (did a --filter, --first or the data select none?)"
      : (input.summary.metrics.errors?.metric ?? 0) >= input.summary.metrics.rows.metric
        ? "every row of this run errored, so none was scored"
        : !(score in input.summary.scores)
          ? "no scorer of this run produced it (renamed or removed?)"
          : input.matchedRows === 0
            ? "no row of this run has a row key of the baseline (were the inputs or ids changed?)"
            : scored === 0
              ? "this run scored no row of it (the scorer returned null or errored on every row)"
              : "no row was scored in both this run and the baseline";
  return {
    kind: "regression",
    score,
    status: "fail",
    // Errors are to fix, not to accept: a new baseline would not even be saved from such a run.
    message: `${score} is in the baseline but could not be compared: ${why}; ${allErrored && input.summary.metrics.rows.metric > 0 ? "fix what the errors say" : SAVE_HINT}`,
  };
}

/** Every gate of one eval: thresholds (always, when any apply) and the regression test (when asked for). */
export function evaluateGate(input: EvalGateInput): EvalGate {
  const checks: GateCheck[] = [];
  const notes: string[] = [];
  const { evalName, summary, options } = input;
  const produced = Object.keys(summary.scores);
  const seen = new Set<string>();
  const unknown = (rule: ScoreRule) =>
    rule.score !== undefined &&
    !(rule.score in summary.scores) &&
    !input.scorerNames.includes(rule.score) &&
    produced.length > 0;
  for (const rule of namedRules(input.rules, evalName)) {
    const score = rule.score as string;
    if (seen.has(score)) continue;
    seen.add(score);
    if (unknown(rule)) checks.push(unknownScore(input, { ...rule, score }));
  }
  for (const rule of namedRules(input.rowRules, evalName)) {
    if (unknown(rule)) checks.push(unknownScore(input, { ...rule, score: rule.score as string }));
  }
  // A rule for every eval naming one of this eval's scorers whose scores go by other names (a Score's `name`, an
  // inline scorer's scorer_<i>): checked here, where it failed as such a rule with EVAL: does, instead of passing
  // without a gate line (the run-wide check takes scorer names as known).
  for (const rule of input.rules) {
    const score = rule.score;
    if (
      rule.eval === undefined &&
      score !== undefined &&
      input.scorerNames.includes(score) &&
      !(score in summary.scores)
    )
      seen.add(score);
  }
  for (const score of [...produced, ...[...seen].filter((s) => !produced.includes(s))]) {
    if (checks.some((c) => c.status === "error" && c.score === score)) continue;
    const rule = effectiveRule(input.rules, evalName, score);
    if (rule) checks.push(thresholdCheck(input, score, rule));
  }
  if (!options.failOnRegression) {
    // --require-baseline alone still asks that every eval have one (a config's requireBaseline was ignored).
    if (options.requireBaseline && input.baseline === undefined) {
      checks.push({
        kind: "baseline",
        score: undefined,
        status: "fail",
        message: "no baseline to compare with (--require-baseline)",
      });
    }
    return { checks, notes };
  }
  if (input.onlyNew > 0 || input.onlyBase > 0) {
    notes.push(
      `${input.onlyNew} ${input.onlyNew === 1 ? "row" : "rows"} only in this run, ${input.onlyBase} only in the baseline: not gated`,
    );
  }
  if (input.baseline === undefined) {
    checks.push({
      kind: "baseline",
      score: undefined,
      status: options.requireBaseline ? "fail" : "pass",
      message: options.requireBaseline
        ? "no baseline to compare with (--require-baseline)"
        : "no baseline to compare with: the regression gate passes (--require-baseline fails instead)",
    });
    return { checks, notes };
  }
  const errored = summary.metrics.errors?.metric ?? 0;
  if (errored > 0) {
    // They have no scores: a model that starts failing on rows it got right would otherwise read "within noise".
    notes.push(
      `${errored} ${errored === 1 ? "result" : "results"} errored in this run: without scores, they are not compared`,
    );
  }
  const inBaseline = new Set(input.baselineScores);
  for (const stats of Object.values(input.stats.scores)) {
    if (!stats.change || (!inBaseline.has(stats.name) && stats.change.matched === 0)) {
      notes.push(`${stats.name} is not in the baseline: not compared`);
      continue;
    }
    if (stats.change.matched === 0) {
      checks.push(nothingCompared(input, stats.name));
      continue;
    }
    // Rows on one side only are said once for the eval (below); the means' move is said where the rows are the same.
    const sameRows = input.onlyNew === 0 && input.onlyBase === 0;
    const check = regressionCheck(
      stats.name,
      stats.change,
      options,
      sameRows ? summary.scores[stats.name]?.diff : undefined,
    );
    if (check.status === "fail" && check.kind === "regression" && stats.change.matched > 0) {
      check.worstRows = input.worstRows(stats.name);
    }
    checks.push(check);
  }
  for (const score of input.baselineScores) {
    if (!(score in summary.scores)) checks.push(nothingCompared(input, score));
  }
  return { checks, notes };
}

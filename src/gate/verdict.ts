import { EvalrunError } from "../define/errors.js";
import type { ExperimentSummary } from "../summary/types.js";
import { closestName } from "../util/suggest.js";
import type { ScoreRule } from "./thresholds.js";
import type { EvalGate, GateCheck, GateOptions } from "./types.js";

interface GatedEval {
  info: { name: string; scorerNames: string[] };
  summary: ExperimentSummary;
  gate?: EvalGate | undefined;
}

/**
 * Before anything runs: every rule that names an eval must name one this run has. A rule for an eval that is not
 * there would otherwise pass without having checked anything.
 */
export function checkRuleEvals(rules: readonly ScoreRule[], evalNames: readonly string[]): void {
  for (const rule of rules) {
    if (rule.eval === undefined || evalNames.includes(rule.eval)) continue;
    if (rule.score !== undefined) {
      // Score names may hold ":" (qa:rubric:helpfulness): the eval is the longest part before a ":" that names one.
      const whole = `${rule.eval}:${rule.score}`;
      let at = whole.lastIndexOf(":");
      while (at > 0 && !evalNames.includes(whole.slice(0, at))) at = whole.lastIndexOf(":", at - 1);
      if (at > 0) {
        (rule as { eval: string | undefined }).eval = whole.slice(0, at);
        (rule as { score: string | undefined }).score = whole.slice(at + 1);
        continue;
      }
    }
    const near = closestName(rule.eval, evalNames);
    throw new EvalrunError(
      "USAGE",
      `${rule.source} names the eval "${rule.eval}", which this run does not include (its evals: ${evalNames.join(", ") || "none"}).${near ? ` Did you mean "${near}"?` : ""}`,
      `Write EVAL:NAME=VALUE with an eval's name as given to Eval(), or leave EVAL: out to cover every eval${rule.score !== undefined ? `; for a score named "${rule.eval}:${rule.score}" in every eval, start with ":" (:${rule.eval}:${rule.score}=VALUE)` : ""}.`,
    );
  }
}

/** Rules for every eval that name a score none of them produced. */
function unmatchedRules(evals: readonly GatedEval[], rules: readonly ScoreRule[]): GateCheck[] {
  const produced = evals.flatMap((e) => [...Object.keys(e.summary.scores), ...e.info.scorerNames]);
  if (evals.every((e) => Object.keys(e.summary.scores).length === 0)) return [];
  const checks: GateCheck[] = [];
  for (const rule of rules) {
    if (rule.eval !== undefined || rule.score === undefined || produced.includes(rule.score)) continue;
    const near = closestName(rule.score, produced);
    checks.push({
      kind: "threshold",
      score: rule.score,
      status: "error",
      threshold: rule.value,
      message: `${rule.source} names the score "${rule.score}", which no eval of this run produced (scores: ${[...new Set(produced)].join(", ")}).${near ? ` Did you mean "${near}"?` : ""}`,
      hint: "Use a score name from the summaries above (a scorer's function name, or the `name` of the Score objects it returns).",
    });
  }
  return checks;
}

export interface Verdict {
  exitCode: number;
  reasons: string[];
  notes: string[];
  /** Misconfigured gates (a rule naming a score nobody produced): each a paragraph with what to do. */
  errors: EvalrunError[];
}

/**
 * Adds the gates' verdict to the run's: a failed gate makes the exit code 1, a misconfigured one 2 (as any usage
 * error), an interrupted run stays 130.
 */
export function gateVerdict(
  evals: readonly GatedEval[],
  options: GateOptions,
  base: { exitCode: number; reasons: string[] },
): Verdict {
  const reasons = [...base.reasons];
  const notes: string[] = [];
  const errors: EvalrunError[] = [];
  let failed = false;
  for (const e of evals) {
    for (const check of e.gate?.checks ?? []) {
      if (check.status === "fail") {
        failed = true;
        reasons.push(`${e.info.name}: ${check.message}`);
      } else if (check.status === "error") {
        errors.push(new EvalrunError("USAGE", check.message, check.hint));
      }
    }
    for (const note of e.gate?.notes ?? []) notes.push(`${e.info.name}: ${note}`);
  }
  for (const check of unmatchedRules(evals, [...options.minScores, ...options.rowThresholds])) {
    errors.push(new EvalrunError("USAGE", check.message, check.hint));
  }
  for (const error of errors) reasons.push(`gate misconfigured: ${error.message}`);
  let exitCode = base.exitCode;
  if (exitCode !== 130) {
    if (errors.length > 0) exitCode = 2;
    else if (failed) exitCode = Math.max(exitCode, 1);
  }
  return { exitCode, reasons, notes, errors };
}

/** Whether an eval's errored results are within the run's --max-error-rate (some errored, not too many). */
export function errorsWithin(summary: ExperimentSummary, maxErrorRate: number): boolean {
  const errors = summary.metrics.errors.metric;
  return errors > 0 && errors / summary.metrics.rows.metric <= maxErrorRate;
}

import type { EvalAggregate } from "./aggregate.js";
import type { BaselineComparison } from "./comparison.js";
import { stable } from "./stable.js";
import type { ExperimentSummary, Metric, ScoreSummary } from "./types.js";

export interface SummaryNames {
  projectName: string;
  experimentName: string;
}

/**
 * The summary of one eval's results: a pure function of its running totals and, when there is a baseline, of how
 * its rows compare. `diff` is the change of the mean (each side's mean over its own scored rows, unmatched rows
 * included); `improvements` and `regressions` count matched rows whose trial-averaged score rose or fell.
 */
export function summarize(
  aggregate: EvalAggregate,
  names: SummaryNames,
  baseline?: BaselineComparison,
): ExperimentSummary {
  const scores: Record<string, ScoreSummary> = {};
  for (const [name, totals] of aggregate.scores) {
    if (!totals.seen) continue;
    const score = totals.scored > 0 ? stable((totals.sum + totals.carry) / totals.scored) : null;
    const before = baseline?.means[name];
    const moved = baseline?.movements[name];
    scores[name] = {
      name,
      score,
      diff: score !== null && typeof before === "number" ? stable(score - before) : null,
      improvements: moved?.improvements ?? 0,
      regressions: moved?.regressions ?? 0,
      scored: totals.scored,
      errors: totals.errors,
    };
  }
  const wall = ((aggregate.endedAt ?? Date.now()) - aggregate.startedAt) / 1000;
  const tokens: Record<string, Metric> = {};
  if (aggregate.tokens.tokens > 0) {
    for (const [name, total] of Object.entries(aggregate.tokens))
      tokens[name] = { name, metric: total, unit: "tokens" };
  }
  return {
    project_name: names.projectName,
    experiment_name: names.experimentName,
    comparison_experiment_name: baseline?.experimentName ?? null,
    scores,
    metrics: {
      rows: { name: "rows", metric: aggregate.rows, unit: "rows" },
      errors: { name: "errors", metric: aggregate.erroredRows, unit: "rows" },
      duration: { name: "duration", metric: wall, unit: "s" },
      // To the microsecond: a difference of two clock readings carries float noise (0.0019041160000000446).
      duration_p50: { name: "duration_p50", metric: micro(aggregate.durationPercentile(50)), unit: "s" },
      duration_p95: { name: "duration_p95", metric: micro(aggregate.durationPercentile(95)), unit: "s" },
      // Totals over the eval's rows, present only when LLM calls reported usage.
      ...tokens,
    },
  };
}

const micro = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

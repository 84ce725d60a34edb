import type { BaselineComparison } from "../summary/comparison.js";
import type { ExperimentSummary } from "../summary/types.js";
import { meanInterval } from "./bootstrap.js";
import type { EvalStats, ScoreStats } from "./types.js";

/** Per score: values of the rows this run scored and paired differences with the baseline, in row-key order. */
export type RowsByScore = ReadonlyMap<
  string,
  { values: ArrayLike<number>; diffs: ArrayLike<number>; weights?: ArrayLike<number> | undefined }
>;

/**
 * Each score's mean with its interval over rows, and its change against the baseline with the interval of the mean
 * paired difference. `rows` is undefined when they were not read (--no-store without a baseline, or a large eval
 * without the regression gate): the summary's numbers are then shown without intervals.
 */
export function scoreStats(
  summary: ExperimentSummary,
  rows: RowsByScore | undefined,
  comparison: BaselineComparison | undefined,
  confidence: number,
): EvalStats {
  const scores: Record<string, ScoreStats> = {};
  for (const s of Object.values(summary.scores)) {
    const own = rows?.get(s.name);
    const inBaseline = comparison !== undefined && s.name in comparison.means;
    const diffs = own?.diffs ?? [];
    scores[s.name] = {
      name: s.name,
      mean: s.score,
      interval: own ? meanInterval(own.values, confidence, undefined, own.weights) : null,
      change:
        inBaseline && rows
          ? {
              matched: diffs.length,
              estimate: meanInterval(diffs, confidence),
              improvements: s.improvements,
              regressions: s.regressions,
            }
          : null,
    };
  }
  return { confidence, scores };
}

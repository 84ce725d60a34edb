import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type Database from "better-sqlite3";
import type { GateConfig } from "../define/config.js";
import { EvalrunError } from "../define/errors.js";
import type { EvalDefinition } from "../define/types.js";
import type { EvalInfo } from "../engine/types.js";
import { evaluateGate, WORST_ROWS } from "../gate/evaluate.js";
import { scoreStats } from "../gate/stats.js";
import { evalThresholdRules, parseScoreRule } from "../gate/thresholds.js";
import { DEFAULT_GATE, type EvalGate, type EvalStats, type GateOptions } from "../gate/types.js";
import { ALWAYS_EXCLUDED } from "../loader/discover.js";
import { BASELINE_DIR, baselinePath } from "../store/baseline-file.js";
import { type ScoreRows, scoreRows, worstRows } from "../store/paired.js";
import type { Experiment } from "../store/types.js";
import type { BaselineComparison } from "../summary/comparison.js";
import type { ExperimentSummary } from "../summary/types.js";

/** Intervals are computed for evals up to this many results, and for any size under the regression gate. */
export const STATS_MAX_RESULTS = 50_000;

/**
 * The gate options of a run: the defaults, then the config's `gate`, then what was given (flags). Score rules add
 * up, the given ones last, so that they win where both name the same score.
 */
export function gateOptions(
  given: (Partial<GateOptions> & Pick<GateConfig, "minScore" | "rowThreshold">) | undefined,
  config?: GateConfig,
): GateOptions {
  const fromConfig = configGate(config, "the config");
  // runEvals({ gate }) takes the config's rule strings too (the CLI passes parsed rules).
  const { minScore, rowThreshold, ...rest } = given ?? {};
  const fromStrings = configGate({ minScore, rowThreshold }, "runEvals()'s gate");
  return {
    ...DEFAULT_GATE,
    ...fromConfig,
    ...rest,
    minScores: [...(fromConfig.minScores ?? []), ...(fromStrings.minScores ?? []), ...(rest.minScores ?? [])],
    rowThresholds: [
      ...(fromConfig.rowThresholds ?? []),
      ...(fromStrings.rowThresholds ?? []),
      ...(rest.rowThresholds ?? []),
    ],
  };
}

function configGate(config: GateConfig | undefined, where: string): Partial<GateOptions> {
  if (!config) return {};
  const rules = (specs: string[] | undefined, key: string) =>
    (specs ?? []).map((spec) => {
      const rule = parseScoreRule(spec, `gate.${key}`);
      if ("problem" in rule) {
        throw new EvalrunError(
          where === "the config" ? "CONFIG" : "USAGE",
          `${where === "the config" ? "The config's" : "runEvals()'s"} gate.${key} entry ${rule.problem.replace(/ \(e\.g\. .*\)$/, "")}.`,
          `Write each as a --${key === "minScore" ? "min-score" : "row-threshold"} value, e.g. "Factuality=0.8" or "0.5".`,
        );
      }
      return { ...rule, source: `gate.${key} "${spec}" in ${where}` };
    });
  const { failOnRegression, maxDrop, confidence, requireBaseline } = config;
  return {
    ...(failOnRegression !== undefined && { failOnRegression }),
    ...(maxDrop !== undefined && { maxDrop }),
    ...(confidence !== undefined && { confidence }),
    ...(requireBaseline !== undefined && { requireBaseline }),
    minScores: rules(config.minScore, "minScore"),
    rowThresholds: rules(config.rowThreshold, "rowThreshold"),
  };
}

/** Each eval's committed baseline file that exists, by eval name, with the path to show (relative to `cwd`). */
export function committedBaselines(
  evals: ReadonlyArray<{ name: string; file: string | undefined }>,
  baselineDir: string | undefined,
  cwd: string,
): Map<string, { file: string; shown: string }> {
  const found = new Map<string, { file: string; shown: string }>();
  for (const e of evals) {
    const file = baselinePath(e.name, e.file, baselineDir);
    if (file && existsSync(file)) found.set(e.name, { file, shown: path.relative(cwd, file) || file });
  }
  return found;
}

/**
 * Committed baseline files no eval of this run would compare with: an eval renamed, or its file moved to another
 * directory, leaves its baseline behind, and the gate then passes with "no baseline" (said here, so that CI shows
 * why). Searched where the run searched for eval files (or in `baselineDir`); directories whose eval file failed
 * to load are left out, as their evals are unknown.
 */
export async function orphanBaselines(input: {
  evals: ReadonlyArray<{ name: string; file: string | undefined }>;
  searched: { paths: string[]; base: string };
  baselineDir: string | undefined;
  failedFiles: readonly string[];
  cwd: string;
}): Promise<string[]> {
  const claimed = new Set(
    input.evals.map((e) => baselinePath(e.name, e.file, input.baselineDir)).filter((f) => f !== undefined),
  );
  const unknown = new Set(
    input.failedFiles.map((f) =>
      input.baselineDir ? input.baselineDir : path.join(path.dirname(f), BASELINE_DIR),
    ),
  );
  const found = new Set<string>();
  const { default: fg } = await import("fast-glob");
  if (input.baselineDir) {
    for (const f of await fg("*.jsonl", { cwd: input.baselineDir, absolute: true, onlyFiles: true }))
      found.add(path.normalize(f));
  } else {
    for (const given of input.searched.paths) {
      const dir = path.resolve(input.searched.base, given);
      const isDir = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDir) continue;
      const files = await fg(`**/${BASELINE_DIR}/*.jsonl`, {
        cwd: dir,
        ignore: ALWAYS_EXCLUDED,
        absolute: true,
        onlyFiles: true,
      });
      for (const f of files) found.add(path.normalize(f));
    }
  }
  return [...found]
    .filter((f) => !claimed.has(f) && !unknown.has(path.dirname(f)))
    .sort()
    .map(
      (f) =>
        `${path.relative(input.cwd, f) || f} is a committed baseline that no eval of this run uses (an eval renamed, or its file moved?), so nothing is compared with it`,
    );
}

export interface Assessed {
  stats: EvalStats;
  gate: EvalGate;
}

/**
 * An eval's statistics and gates, once its experiment is finished: per-row values come from the store (sorted by
 * row key), so the intervals depend on the rows alone, not on the order they finished in or on how they were
 * sharded.
 */
export function assessEval(input: {
  db: Database.Database;
  info: EvalInfo;
  definition: Pick<EvalDefinition, "evaluator"> | undefined;
  experiment: Experiment;
  baseline: Experiment | undefined;
  /** False when the run kept no rows (--no-store without a baseline). */
  rowsKept: boolean;
  /** Per-row values the writer can group without the store; read from the store when absent. */
  rows?: (() => Map<string, ScoreRows>) | undefined;
  summary: ExperimentSummary;
  comparison: BaselineComparison | undefined;
  options: GateOptions;
  /** Thresholds recorded with shard exports, when the eval's file was not loaded (merge). */
  thresholds?: Record<string, number> | undefined;
  /** Why no gate applies to this run (a shard: its part of the rows is not the verdict's). */
  gatesLeftTo?: string | undefined;
}): Assessed {
  const { db, experiment, baseline, summary, comparison, options } = input;
  // Past STATS_MAX_RESULTS an interval is narrower than the summary shows, and grouping rows costs ~1 s per
  // 100,000 results: then only the regression gate, which needs them, pays for it.
  const wanted = options.failOnRegression || summary.metrics.rows.metric <= STATS_MAX_RESULTS;
  const rows =
    input.rowsKept && wanted
      ? (input.rows?.() ?? scoreRows(db, experiment.seq, baseline?.seq ?? null))
      : undefined;
  const stats = scoreStats(summary, rows, comparison, options.confidence);
  if (input.gatesLeftTo) return { stats, gate: { checks: [], notes: [input.gatesLeftTo] } };
  const own = input.definition?.evaluator.thresholds ?? input.thresholds;
  const gate = evaluateGate({
    evalName: input.info.name,
    summary,
    stats,
    scorerNames: input.info.scorerNames,
    baseline: comparison ? baseline?.name : undefined,
    baselineScores: Object.entries(comparison?.means ?? {})
      .filter(([, mean]) => mean !== null)
      .map(([score]) => score),
    matchedRows: comparison?.matchedRows ?? 0,
    onlyNew: comparison?.onlyNew ?? 0,
    onlyBase: comparison?.onlyBase ?? 0,
    rules: [...options.minScores, ...evalThresholdRules(input.info.name, own)],
    rowRules: options.rowThresholds,
    options,
    worstRows: (score) => (baseline ? worstRows(db, experiment.seq, baseline.seq, score, WORST_ROWS) : []),
  });
  return { stats, gate };
}

import type { MeanEstimate } from "./bootstrap.js";
import type { ScoreRule } from "./thresholds.js";

/** How a run is gated; every field has a flag (see the README's CI section). */
export interface GateOptions {
  /** Fail when a score dropped beyond noise against the baseline (`--fail-on-regression`, on with `--ci`). */
  failOnRegression: boolean;
  /** The drop of a score's mean tolerated even when it is beyond noise (`--max-drop`, a fraction). */
  maxDrop: number;
  /** Confidence of every interval (`--confidence`). */
  confidence: number;
  /** Fail an eval that has no baseline instead of passing with a notice (`--require-baseline`). */
  requireBaseline: boolean;
  /** `--min-score` rules; an eval's own `thresholds` are added per eval. */
  minScores: ScoreRule[];
  /** `--row-threshold` rules: rows below them fail in the reports (JUnit), not the run. */
  rowThresholds: ScoreRule[];
}

export const DEFAULT_GATE: GateOptions = {
  failOnRegression: false,
  maxDrop: 0,
  confidence: 0.95,
  requireBaseline: false,
  minScores: [],
  rowThresholds: [],
};

/** How one score moved on the rows present in this run and in the baseline (trials averaged per row). */
export interface ScoreChange {
  matched: number;
  /** The mean paired difference (this run − baseline) with its interval; null when no row matched. */
  estimate: MeanEstimate | null;
  improvements: number;
  regressions: number;
}

export interface ScoreStats {
  name: string;
  /** The summary's mean (over results). */
  mean: number | null;
  /** The mean over rows (trials averaged) with its interval; null when the rows were not kept (--no-store). */
  interval: MeanEstimate | null;
  /** Null without a baseline (or a baseline without this score). */
  change: ScoreChange | null;
}

export interface EvalStats {
  confidence: number;
  scores: Record<string, ScoreStats>;
}

/** A matched row whose score fell, with what it looked like on each side. */
export interface WorstRow {
  rowKey: string;
  before: number;
  after: number;
  input: unknown;
  expected: unknown;
  outputBefore: unknown;
  outputAfter: unknown;
  errorAfter: string | undefined;
}

export type CheckStatus = "pass" | "fail" | "error";

/** One gate's verdict on one score (or on the eval, for the baseline check). */
export interface GateCheck {
  kind: "threshold" | "regression" | "baseline";
  score: string | undefined;
  status: CheckStatus;
  /** One line: what was checked and how it came out. */
  message: string;
  /** For an error (a misconfigured gate): what to do. */
  hint?: string | undefined;
  /** For a threshold: the rule. */
  threshold?: number | undefined;
  /** For a failed regression: the rows that fell the most, worst first. */
  worstRows?: WorstRow[] | undefined;
}

export interface EvalGate {
  checks: GateCheck[];
  /** Things worth saying that do not change the verdict (no baseline, rows only on one side). */
  notes: string[];
}

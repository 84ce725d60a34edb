// The public API: re-exports, and two thin wrappers that load the runner lazily so that an eval file importing
// Eval does not pay for it.
export type { EvalrunConfig } from "./define/config.js";
export { defineConfig } from "./define/config.js";
export type { EvalrunErrorCode } from "./define/errors.js";
export { EvalrunError, isEvalrunError } from "./define/errors.js";
export type {
  DirectRunResult,
  EvalResult,
  EvalResultRow,
  EvalResultWithSummary,
  EvalScoreSummary,
  EvalSummary,
} from "./define/eval.js";
export { Eval } from "./define/eval.js";
export type { CsvOptions, LoadedRow, LoadOptions } from "./define/loaders.js";
export { loadCsv, loadJson, loadJsonl } from "./define/loaders.js";
export type { ReporterBody, ReporterDef, ReporterOpts } from "./define/reporter.js";
export { Reporter } from "./define/reporter.js";
export type { Logger, Span, SpanEvent, StartSpanArgs } from "./define/tracing.js";
export {
  currentLogger,
  currentSpan,
  defaultErrorScoreHandler,
  flush,
  initLogger,
  logError,
  NOOP_SPAN,
  startSpan,
  traceable,
  traced,
  updateSpan,
  withCurrent,
  wrapAISDK,
  wrapAISDKModel,
  wrapAnthropic,
  wrapOpenAI,
  wrapTraced,
} from "./define/tracing.js";
export type {
  Awaitable,
  BaseMetadata,
  DefaultMetadataType,
  ErrorScoreHandler,
  EvalCase,
  EvalClassifier,
  EvalData,
  EvalHooks,
  EvalParameters,
  EvalScorer,
  EvalScorerArgs,
  EvalTask,
  Evaluator,
  InferParameters,
  Metadata,
  MetadataOf,
  Score,
  ScoreObject,
  Scorer,
  ScorerArgs,
  ScorerResult,
} from "./define/types.js";
export type { ProviderUsage, TokenUsage } from "./define/usage.js";
export { recordUsage } from "./define/usage.js";
export type { EvalInfo, RowError, RowResult } from "./engine/types.js";
export type { EvalGate, EvalStats, GateCheck, GateOptions, ScoreStats } from "./gate/types.js";
export type { Problem } from "./loader/problems.js";
export type { EvalFailure, EvalOutcome, RunResult } from "./report/reporter.js";
export type { ListedEval } from "./runner/list.js";
export type { RunEvalsOptions } from "./runner/options.js";
export type { RunEvalsResult } from "./runner/run-evals.js";
export * from "./scorers/index.js";
export type { ExperimentSummary, Metric, Metric as MetricSummary, ScoreSummary } from "./summary/types.js";

/** Finds, compiles and runs evals; resolves to their summaries (see RunEvalsOptions). */
export async function runEvals(
  options?: import("./runner/options.js").RunEvalsOptions,
): Promise<import("./runner/run-evals.js").RunEvalsResult> {
  const { runEvals: run } = await import("./core.js");
  return run(options);
}

/** The evals a run would run and their row counts, without running them. */
export async function listEvals(options?: import("./runner/options.js").RunEvalsOptions): Promise<{
  evals: import("./runner/list.js").ListedEval[];
  problems: import("./loader/problems.js").Problem[];
}> {
  const { listEvals: list } = await import("./core.js");
  return list(options);
}

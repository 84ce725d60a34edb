import { EvalrunError } from "./errors.js";
import { getRegistry } from "./registry.js";
import type { ReporterDef } from "./reporter.js";
import type { EvalDefinition, EvalParameters, Evaluator, Metadata, MetadataOf } from "./types.js";

/**
 * What `Eval()` resolves to, as Braintrust's `EvalResultWithSummary`: in a file run by itself, the eval's summary
 * (a SummarizeExperimentResponse) and its results; under a runner, which runs the eval after the file has
 * loaded, an empty summary and no results at once (Braintrust's CLI does the same), so that `await Eval(...)` and
 * `.then((r) => r.summary)` at a file's top level still work.
 */
export interface EvalResultWithSummary<
  Input = unknown,
  Output = unknown,
  Expected = unknown,
  Meta = Metadata,
> {
  name: string;
  summary: EvalSummary;
  results: EvalResultRow<Input, Output, Expected, Meta>[];
}

/** One result of a file run by itself (a RowResult, as the store keeps it); Braintrust's EvalResult. */
export interface EvalResultRow<Input = unknown, Output = unknown, Expected = unknown, Meta = Metadata> {
  input: Input;
  /** Undefined when the task failed (typed as Braintrust types it). */
  output: Output;
  expected?: Expected;
  scores: Record<string, number | null>;
  metadata?: MetadataOf<Meta>;
  error?: unknown;
  [key: string]: unknown;
}

/** Braintrust's name for one result. */
export type EvalResult<
  Input = unknown,
  Output = unknown,
  Expected = unknown,
  Meta = Metadata,
> = EvalResultRow<Input, Output, Expected, Meta>;

/** A score's summary, as `summary.scores` holds it (the API's shape, which Braintrust's ExperimentSummary shares). */
export interface EvalScoreSummary {
  name: string;
  score: number | null;
  diff: number | null;
  improvements: number;
  regressions: number;
  [key: string]: unknown;
}

/**
 * The API's SummarizeExperimentResponse (snake_case, as `--jsonl` prints it), with Braintrust's camelCase names of
 * the same fields beside them, so that a ported script reading `summary.experimentName` gets it.
 */
export interface EvalSummary {
  project_name: string;
  experiment_name: string;
  comparison_experiment_name?: string | null;
  projectName: string;
  experimentName: string;
  comparisonExperimentName?: string | undefined;
  /** Braintrust's links and ids of its service: never set locally, typed so that a ported script reading them compiles. */
  projectId?: string | undefined;
  experimentId?: string | undefined;
  projectUrl?: string | undefined;
  experimentUrl?: string | undefined;
  scores: Record<string, EvalScoreSummary>;
  metrics: Record<string, { name: string; metric: number; unit: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** The summary with Braintrust's camelCase names added (not enumerable: JSON and spreads keep the API's shape). */
export function withCamelCase(
  summary: Omit<EvalSummary, "projectName" | "experimentName" | "comparisonExperimentName">,
): EvalSummary {
  const aliases = {
    projectName: summary.project_name,
    experimentName: summary.experiment_name,
    comparisonExperimentName: summary.comparison_experiment_name ?? undefined,
  };
  for (const [key, value] of Object.entries(aliases))
    Object.defineProperty(summary, key, { value, enumerable: false, configurable: true });
  return summary as EvalSummary;
}

/** The former name of EvalResultWithSummary. */
export type DirectRunResult = EvalResultWithSummary;

/**
 * Declares an eval. Under `evalrun` (or `runEvals()`), this only registers it; in a file run directly
 * (`tsx my.eval.ts`) it runs the eval at once and prints its summary, as Braintrust's `Eval()` does.
 */
export function Eval<
  Input,
  Output,
  Expected = unknown,
  Meta = Metadata,
  // Braintrust's order of type arguments, so that a ported Eval<I, O, E, M, EvalReport, P>(...) type-checks.
  EvalReport = boolean,
  Parameters = EvalParameters,
>(
  name: string,
  evaluator: Evaluator<Input, Output, Expected, Meta, Parameters>,
  /** Braintrust's reporter or options: evalrun reports through its own reporters (`--reporter`), so unused. */
  reporterOrOptions?: ReporterDef<EvalReport> | string | object,
): Promise<EvalResultWithSummary<Input, Output, Expected, Meta>> {
  const registry = getRegistry();
  const definition: EvalDefinition = {
    name,
    evaluator: evaluator as unknown as EvalDefinition["evaluator"],
    file: registry.currentFile,
    reporter: braintrustReporter(reporterOrOptions),
  };
  const scripts = registry.route !== undefined || registry.mode !== "collect" ? callerScripts() : [];
  const routed = registry.route?.(definition, scripts) === true;
  if (!routed && (registry.route !== undefined || registry.mode !== "collect")) {
    // Called from a file evalrun loaded, after the load (a timer, an async function nobody awaited): it ran outside
    // the run, or was taken for the file loading then, under that file's name, its failures left out of the exit
    // code.
    const late = scripts.find((s) => /\?load=\d+$/.test(s));
    if (late !== undefined) {
      throw new EvalrunError(
        "LOAD",
        `Eval(${JSON.stringify(name)}) was called after its file had loaded (from a timer, or an async function nobody awaited), so it was not run: evalrun runs the evals a file registers while it loads.`,
        "Call Eval() at the top level of the file, or await what it waits on there (top-level await works).",
      );
    }
  }
  if (routed || registry.mode === "collect") {
    if (!routed) registry.evals.push(definition);
    return Promise.resolve({
      name,
      summary: withCamelCase({ project_name: name, experiment_name: "", scores: {}, metrics: {} }),
      results: [],
    });
  }
  // The results are the rows the evaluator's own task and data made.
  return import("../core.js").then(
    ({ runDirect }) => runDirect(definition) as Promise<EvalResultWithSummary<Input, Output, Expected, Meta>>,
  );
}

/**
 * The name of a Braintrust reporter (`Reporter(name, { reportEval, reportRun })`, or options holding one): its
 * `reportRun` may decide whether CI passes there, so not running it must be said.
 */
function braintrustReporter(given: unknown): string | undefined {
  const candidate =
    typeof given === "object" && given !== null && "reporter" in given
      ? (given as { reporter?: unknown }).reporter
      : given;
  if (typeof candidate === "string") return candidate;
  if (typeof candidate !== "object" || candidate === null) return undefined;
  const { name, reportEval, reportRun } = candidate as Record<string, unknown>;
  if (typeof reportEval !== "function" && typeof reportRun !== "function") return undefined;
  return typeof name === "string" ? name : "(unnamed)";
}

/**
 * The scripts on the stack of an Eval() call, as loaded (a bundle's URL with its load query, not the source that
 * source maps would name): which load registered it, even when that load's top-level `await` resumed after
 * others began.
 */
function callerScripts(): string[] {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 50;
    Error.prepareStackTrace = (_, sites) => sites.map((site) => site.getFileName() ?? "");
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, Eval);
    return Array.isArray(holder.stack) ? (holder.stack as string[]) : [];
  } catch {
    return [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

import { getRegistry } from "./registry.js";
import type { EvalDefinition, Evaluator, Metadata } from "./types.js";

/**
 * What `Eval()` resolves to, as Braintrust's `EvalResultWithSummary`: in a file run by itself, the eval's summary
 * (a SummarizeExperimentResponse) and its results; under a runner, which runs the eval after the file has
 * loaded, an empty summary and no results at once (Braintrust's CLI does the same), so that `await Eval(...)` and
 * `.then((r) => r.summary)` at a file's top level still work.
 */
export interface EvalResultWithSummary {
  name: string;
  summary: {
    project_name: string;
    experiment_name: string;
    scores: Record<string, unknown>;
    metrics: Record<string, unknown>;
    [key: string]: unknown;
  };
  results: Array<Record<string, unknown>>;
}

/** The former name of EvalResultWithSummary. */
export type DirectRunResult = EvalResultWithSummary;

/**
 * Declares an eval. Under `evalrun` (or `runEvals()`), this only registers it; in a file run directly
 * (`tsx my.eval.ts`) it runs the eval at once and prints its summary, as Braintrust's `Eval()` does.
 */
export function Eval<Input, Output, Expected = unknown, Meta = Metadata>(
  name: string,
  evaluator: Evaluator<Input, Output, Expected, Meta>,
  /** Braintrust's reporter or options: evalrun reports through its own reporters (`--reporter`), so unused. */
  _reporterOrOptions?: unknown,
): Promise<EvalResultWithSummary> {
  const registry = getRegistry();
  const definition: EvalDefinition = {
    name,
    evaluator: evaluator as unknown as EvalDefinition["evaluator"],
    file: registry.currentFile,
  };
  const routed = registry.route?.(definition, callerScripts()) === true;
  if (routed || registry.mode === "collect") {
    if (!routed) registry.evals.push(definition);
    return Promise.resolve({
      name,
      summary: { project_name: name, experiment_name: "", scores: {}, metrics: {} },
      results: [],
    });
  }
  return import("../core.js").then(({ runDirect }) => runDirect(definition));
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

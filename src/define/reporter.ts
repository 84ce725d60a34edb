import type { Reporter as RunReporter } from "../report/reporter.js";
import type { EvalResultWithSummary } from "./eval.js";
import type { Evaluator } from "./types.js";

/** A reporter given to runEvals() (see report/reporter.ts); the name is shared with Braintrust's function below. */
export type Reporter = RunReporter;

/** Braintrust's reporter options. */
export interface ReporterOpts {
  verbose: boolean;
  jsonl: boolean;
}

/**
 * Braintrust's reporter body, typed as Braintrust types it so that a ported reporter's parameters are not
 * implicitly `any` under `strict`. evalrun never calls it.
 */
export interface ReporterBody<EvalReport> {
  reportEval(
    // biome-ignore lint/suspicious/noExplicitAny: Braintrust's signature: a reporter serves evals of any types
    evaluator: Evaluator<any, any, any, any, any> & { evalName: string; projectName: string },
    // biome-ignore lint/suspicious/noExplicitAny: as above
    result: EvalResultWithSummary<any, any, any, any>,
    opts: ReporterOpts,
  ): EvalReport | Promise<EvalReport>;
  /** Braintrust requires it; evalrun never calls either, so a body written without it still type-checks. */
  reportRun?(reports: EvalReport[]): boolean | Promise<boolean>;
}

export type ReporterDef<EvalReport> = { name: string } & ReporterBody<EvalReport>;

/**
 * Braintrust's `Reporter(name, body)`, whose result a ported file passes as `Eval()`'s third argument: evalrun
 * reports through its own reporters (`--reporter`), so the definition is returned as it is, and never called.
 */
export function Reporter<EvalReport>(
  name: string,
  // Other keys (a description, helpers) are kept, as they always were.
  body: ReporterBody<EvalReport> & Record<string, unknown>,
): ReporterDef<EvalReport> {
  return { ...body, name };
}

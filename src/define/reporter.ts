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
// biome-ignore lint/suspicious/noRedeclare: overloads of the function that shares its name with the type above
export function Reporter<EvalReport>(name: string, body: ReporterBody<EvalReport>): ReporterDef<EvalReport>;
/** A body with keys of its own (a description, helpers), which evalrun always accepted and keeps. */
// biome-ignore lint/suspicious/noRedeclare: as above
export function Reporter<Body extends ReporterBody<unknown>>(
  name: string,
  body: Body,
): Body & { name: string };
export function Reporter(name: string, body: ReporterBody<unknown>): ReporterDef<unknown> {
  return { ...body, name };
}

import type { Reporter as RunReporter } from "../report/reporter.js";

/** A reporter given to runEvals() (see report/reporter.ts); the name is shared with Braintrust's function below. */
export type Reporter = RunReporter;

/**
 * Braintrust's `Reporter(name, body)`, whose result a ported file passes as `Eval()`'s third argument: evalrun
 * reports through its own reporters (`--reporter`), so the definition is returned as it is, and never called.
 */
export function Reporter<T extends object>(name: string, body: T): T & { name: string } {
  return { ...body, name };
}

import { getRegistry } from "./registry.js";
import type { EvalDefinition, Evaluator, Metadata } from "./types.js";

/** What `Eval()` resolves to when the file runs by itself; undefined when a runner collects it. */
export interface DirectRunResult {
  name: string;
  summary: unknown;
}

/**
 * Declares an eval. Under `evalrun` (or `runEvals()`), this only registers it; in a file run directly
 * (`tsx my.eval.ts`) it runs the eval at once and prints its summary, as Braintrust's `Eval()` does.
 */
export function Eval<Input, Output, Expected = unknown, Meta = Metadata>(
  name: string,
  evaluator: Evaluator<Input, Output, Expected, Meta>,
): Promise<DirectRunResult | undefined> {
  const registry = getRegistry();
  const definition: EvalDefinition = {
    name,
    evaluator: evaluator as unknown as EvalDefinition["evaluator"],
    file: registry.currentFile,
  };
  if (registry.mode === "collect") {
    registry.evals.push(definition);
    return Promise.resolve(undefined);
  }
  return import("../core.js").then(({ runDirect }) => runDirect(definition));
}

import { describeValue, EvalrunError, isEvalrunError } from "../define/errors.js";
import type { EvalCase, EvalDefinition } from "../define/types.js";
import { checkRow, isThenable, iteratorResult, openData } from "./data.js";
import { matchesFilters, type RowFilter } from "./filters.js";

/**
 * Rows an eval would run (after filters) and the results they make (a row runs its own `trialCount` times unless
 * `fixedTrials`, --trials, says otherwise), read through its data once without running anything.
 */
export async function countRows(
  definition: EvalDefinition,
  filters: readonly RowFilter[],
  trials: { count: number; fixed: boolean },
): Promise<{ rows: number; results: number }> {
  const label = `Eval "${definition.name}"`;
  const { iterator, size } = await openData(definition.evaluator.data, label);
  if (size !== undefined && filters.length === 0 && trials.fixed)
    return { rows: size, results: size * trials.count };
  let rows = 0;
  let results = 0;
  let index = 0;
  for (;;) {
    let pulled: unknown;
    try {
      pulled = await iterator.next();
    } catch (error) {
      // As a run says it: a data source that fails while it is counted is the data's error, not evalrun's.
      if (isEvalrunError(error)) throw error;
      const what = error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
      throw new EvalrunError(
        "BAD_DATA",
        `${label}: the data source threw after ${index} ${index === 1 ? "row" : "rows"}: ${what}`,
        "Fix the data source; the other evals are counted.",
        { cause: error },
      );
    }
    const next = iteratorResult(pulled, label, index);
    if (next.done) break;
    // A row that is a promise is awaited, as a run awaits it.
    if (isThenable(next.value)) next.value = await Promise.resolve(next.value).catch(() => undefined);
    const ok = checkRow(next.value, index++) === undefined;
    if (filters.length > 0 && !(ok && matchesFilters(next.value, filters))) continue;
    rows++;
    const own = ok ? (next.value as EvalCase).trialCount : undefined;
    results += own == null || trials.fixed ? trials.count : own;
  }
  return { rows, results };
}

import type { EvalCase, EvalDefinition } from "../define/types.js";
import { checkRow, openData } from "./data.js";
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
  const { iterator, size } = await openData(definition.evaluator.data, `Eval "${definition.name}"`);
  if (size !== undefined && filters.length === 0 && trials.fixed)
    return { rows: size, results: size * trials.count };
  let rows = 0;
  let results = 0;
  let index = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const ok = checkRow(next.value, index++) === undefined;
    if (filters.length > 0 && !(ok && matchesFilters(next.value, filters))) continue;
    rows++;
    const own = ok ? (next.value as EvalCase).trialCount : undefined;
    results += own == null || trials.fixed ? trials.count : own;
  }
  return { rows, results };
}

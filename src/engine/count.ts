import type { EvalDefinition } from "../define/types.js";
import { checkRow, openData } from "./data.js";
import { matchesFilters, type RowFilter } from "./filters.js";

/** Rows an eval would run (after filters), read through its data once without running anything. */
export async function countRows(definition: EvalDefinition, filters: readonly RowFilter[]): Promise<number> {
  const { iterator, size } = await openData(definition.evaluator.data, `Eval "${definition.name}"`);
  if (size !== undefined && filters.length === 0) return size;
  let count = 0;
  let index = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const ok = checkRow(next.value, index++) === undefined;
    if (filters.length === 0 || (ok && matchesFilters(next.value, filters))) count++;
  }
  return count;
}

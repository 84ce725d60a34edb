import { randomUUID } from "node:crypto";
import type { LimitFunction } from "p-limit";
import { EvalrunError, isEvalrunError } from "../define/errors.js";
import type { EvalCase, EvalDefinition } from "../define/types.js";
import { checkRow, openData } from "./data.js";
import { matchesFilters, type RowFilter } from "./filters.js";
import { type ItemContext, runItem } from "./row.js";
import { type RunPlan, rowKey } from "./row-key.js";
import { Semaphore } from "./semaphore.js";
import type { EvalInfo, RowResult } from "./types.js";

export interface RunEvalOptions {
  filters: readonly RowFilter[];
  /** Caps rows in flight across every eval of the run. */
  globalLimit: LimitFunction | undefined;
  /** Aborted on Ctrl-C: stop pulling rows. */
  stop: AbortSignal;
  /** Aborted after the grace period following `stop`: drop rows still in flight. */
  hardStop: AbortSignal;
  onRow(row: RowResult): void;
  /** Told the number of rows when the data is an array (before filtering). */
  onSize?(rows: number): void;
  /** Which (row, trial) pairs to run; all when absent. */
  plan?: RunPlan | undefined;
}

export interface RunEvalOutcome {
  /** Rows read from the data (after filtering). */
  rowsRead: number;
  interrupted: boolean;
  /** Set when the eval could not run to the end (bad data, a failing data source). */
  failure: EvalrunError | undefined;
}

const label = (info: EvalInfo) => `Eval "${info.name}"`;

/**
 * Runs every (row × trial) of one eval: rows are pulled one at a time only when a slot is free, so data is never
 * read ahead of `maxConcurrency`; each item runs under the global cap too.
 */
export async function runEval(
  definition: EvalDefinition,
  info: EvalInfo,
  options: RunEvalOptions,
): Promise<RunEvalOutcome> {
  const slots = new Semaphore(info.maxConcurrency);
  const ctx: ItemContext = {
    evaluator: definition.evaluator,
    scorerNames: info.scorerNames,
    timeout: info.timeout,
    hardStop: options.hardStop,
  };
  const inFlight = new Set<Promise<void>>();
  let rowsRead = 0;
  let failure: EvalrunError | undefined;
  const wake = () => slots.releaseAll();
  options.stop.addEventListener("abort", wake, { once: true });

  const launch = (row: EvalCase, key: string, rowIndex: number, trial: number) => {
    const run = () => runItem(ctx, row, key, rowIndex, trial);
    const task = (options.globalLimit ? options.globalLimit(run) : run()).then((result) => {
      if (result) options.onRow(result);
    });
    const tracked = task.finally(() => {
      inFlight.delete(tracked);
      slots.release();
    });
    inFlight.add(tracked);
  };

  try {
    const { iterator, size } = await openData(definition.evaluator.data, label(info));
    if (size !== undefined && options.filters.length === 0) options.onSize?.(size);
    let index = 0;
    try {
      for (;;) {
        const gate = slots.acquire();
        if (gate) await gate;
        if (options.stop.aborted) {
          slots.release();
          break;
        }
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          slots.release();
          throw new EvalrunError(
            "BAD_DATA",
            `${label(info)}: the data source threw after ${index} rows: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
            "Rows read before the failure were run and are kept; fix the data source and run again.",
            { cause: error },
          );
        }
        if (next.done) {
          slots.release();
          break;
        }
        const rowIndex = index++;
        const raw = next.value;
        const problem = checkRow(raw, rowIndex);
        if (problem !== undefined) {
          slots.release();
          // A malformed row cannot match a filter; without filters it is reported, never silently dropped.
          if (options.filters.length === 0) {
            rowsRead++;
            const key = `bad:${rowIndex}`;
            for (let trial = 0; trial < info.trialCount; trial++) {
              if (options.plan && !options.plan.take(key, trial)) continue;
              options.onRow(badRow(raw, key, rowIndex, trial, problem));
            }
          }
          continue;
        }
        if (options.filters.length > 0 && !matchesFilters(raw, options.filters)) {
          slots.release();
          continue;
        }
        rowsRead++;
        const row = raw as EvalCase;
        const key = rowKey(row);
        // The slot acquired before reading the row goes to its first trial that runs.
        let holding = true;
        for (let trial = 0; trial < info.trialCount; trial++) {
          if (options.plan && !options.plan.take(key, trial)) continue;
          if (!holding) {
            const more = slots.acquire();
            if (more) await more;
            if (options.stop.aborted) {
              slots.release();
              break;
            }
          }
          holding = false;
          launch(row, key, rowIndex, trial);
        }
        if (holding) slots.release();
      }
    } finally {
      await iterator.return?.();
    }
  } catch (error) {
    if (!isEvalrunError(error)) throw error;
    failure = error;
  } finally {
    options.stop.removeEventListener("abort", wake);
    while (inFlight.size > 0) await Promise.all(inFlight);
  }
  return { rowsRead, interrupted: options.stop.aborted, failure };
}

function badRow(raw: unknown, key: string, rowIndex: number, trialIndex: number, message: string): RowResult {
  const now = Date.now() / 1000;
  const input =
    typeof raw === "object" && raw !== null && "input" in raw ? (raw as { input: unknown }).input : raw;
  return {
    id: randomUUID(),
    input,
    scores: {},
    metadata: {},
    tags: [],
    metrics: { start: now, end: now, duration: 0 },
    error: { kind: "data", message },
    row_key: key,
    row_index: rowIndex,
    trial_index: trialIndex,
  };
}

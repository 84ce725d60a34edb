import { performance } from "node:perf_hooks";
import type { LimitFunction } from "p-limit";
import { EvalrunError, errorLine, isEvalrunError } from "../define/errors.js";
import type { EvalCase, EvalDefinition } from "../define/types.js";
import { withoutSecrets } from "../util/secrets.js";
import { checkRow, iteratorResult, openData } from "./data.js";
import { ExitCalled } from "./exit-guard.js";
import { matchesFilters, type RowFilter } from "./filters.js";
import {
  badRow,
  type Execute,
  failedResult,
  type ItemContext,
  NEVER_SETTLED,
  runItem,
  type WorkItem,
} from "./row.js";
import { type RunPlan, rowKey, stringDigest } from "./row-key.js";
import { Semaphore } from "./semaphore.js";
import { slotHeld } from "./slot-hold.js";
import type { Stalls } from "./stalls.js";
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
  /** Where items run (given the in-process context, e.g. for a pool's fallback); in this thread when absent. */
  executor?: ((ctx: ItemContext) => Execute) | undefined;
  /** Told when the process has nothing left to wait for (see Stalls): what this eval waits on can never come. */
  stalls?: Stalls | undefined;
}

export interface RunEvalOutcome {
  /** Rows read from the data (after filtering). */
  rowsRead: number;
  /** Rows the data gave, before filtering; undefined when the eval was stopped while waiting for its data. */
  rowsGiven?: number | undefined;
  interrupted: boolean;
  /** Set when the eval could not run to the end (bad data, a failing data source). */
  failure: EvalrunError | undefined;
}

const label = (info: EvalInfo) => `Eval "${info.name}"`;

const YIELD_EVERY_MS = 20;

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";

/** What runRows shares with runEval for a stall: its rows in flight and how many rows it has read. */
interface StallHooks {
  settleStuck(): number;
  rowsRead(): number;
}

/**
 * Runs every (row × trial) of one eval: rows are pulled one at a time only when a slot is free, so data is never
 * read ahead of `maxConcurrency`; each item runs under the global cap too. Items whose task and scorers are
 * synchronous complete in the loop itself, without a promise.
 *
 * When the process stalls (nothing left for anything to wait on), the rows in flight can never finish: each is
 * recorded as an error and the eval goes on. With none in flight the eval waits on its data, which can never come:
 * it ends with a failure, as when its data source throws.
 */
export function runEval(
  definition: EvalDefinition,
  info: EvalInfo,
  options: RunEvalOptions,
): Promise<RunEvalOutcome> {
  const stalls = options.stalls;
  const hooks: StallHooks = { settleStuck: () => 0, rowsRead: () => 0 };
  const cleanups: Array<() => void> = [];
  const endings = [runRows(definition, info, options, hooks, stalls !== undefined)];
  // The hard stop ends the eval even while it waits on its data: a data promise (or an iterator's next()) cannot
  // be aborted, and a watch-mode restart or a Ctrl-C must not wait for data that may take minutes or never come.
  endings.push(
    new Promise<RunEvalOutcome>((resolve) => {
      const onHardStop = () => resolve({ rowsRead: hooks.rowsRead(), interrupted: true, failure: undefined });
      if (options.hardStop.aborted) return onHardStop();
      options.hardStop.addEventListener("abort", onHardStop, { once: true });
      cleanups.push(() => options.hardStop.removeEventListener("abort", onHardStop));
    }),
  );
  if (stalls !== undefined) {
    endings.push(
      new Promise<RunEvalOutcome>((resolve) => {
        const off = stalls.on(() => {
          if (hooks.settleStuck() > 0) return;
          resolve({
            rowsRead: hooks.rowsRead(),
            interrupted: options.stop.aborted,
            failure: new EvalrunError(
              "BAD_DATA",
              `${label(info)}: the data source never settled: its promise (or its iterator's next()) was still pending after ${hooks.rowsRead()} rows, with nothing left for it to wait on (no timer, no I/O), so it never could.`,
              "Look for a promise in the data source that is never resolved; rows read before were run and are kept.",
            ),
          });
        });
        cleanups.push(off);
      }),
    );
  }
  return Promise.race(endings).finally(() => {
    for (const cleanup of cleanups) cleanup();
  });
}

async function runRows(
  definition: EvalDefinition,
  info: EvalInfo,
  options: RunEvalOptions,
  stall: StallHooks,
  trackInFlight: boolean,
): Promise<RunEvalOutcome> {
  const slots = new Semaphore(info.maxConcurrency);
  const ctx: ItemContext = {
    evaluator: definition.evaluator,
    scorerNames: info.scorerNames,
    timeout: info.timeout,
    hardStop: options.hardStop,
  };
  const local: Execute = (item) => runItem(ctx, item);
  const execute: Execute = options.executor ? options.executor(ctx) : local;
  let pending = 0;
  let drained: (() => void) | undefined;
  let rowsRead = 0;
  let rowsGiven = 0;
  let failure: EvalrunError | undefined;
  let closing: EvalrunError | undefined;
  const wake = () => slots.releaseAll();
  options.stop.addEventListener("abort", wake, { once: true });
  // After a stop no row starts: a slot held for a timed-out row's task (slot-hold.ts) is no longer worth holding.
  const stopped = new Promise<void>((resolve) => {
    if (options.stop.aborted) resolve();
    else options.stop.addEventListener("abort", () => resolve(), { once: true });
  });
  const heldFor = (result: RowResult | undefined) => {
    const held = slotHeld(result);
    return held && Promise.race([held, stopped]);
  };

  const settle = (result: RowResult | undefined) => {
    if (result) options.onRow(result);
    const held = heldFor(result);
    if (held) void held.then(() => slots.release());
    else slots.release();
  };
  const settleLater = (result: RowResult | undefined) => {
    settle(result);
    if (--pending === 0) drained?.();
  };

  // Rows whose outcome is a promise, with when they started: what a stall records as never finished.
  const inFlight = trackInFlight ? new Map<WorkItem, number>() : undefined;
  stall.rowsRead = () => rowsRead;
  if (inFlight) {
    stall.settleStuck = () => {
      const stuck = [...inFlight];
      inFlight.clear();
      for (const [item, started] of stuck)
        settleLater(failedResult(item, { kind: "task", message: NEVER_SETTLED }, started));
      return stuck.length;
    };
  }

  const launch = (item: WorkItem) => {
    // An item queued behind the global cap when Ctrl-C came does not start: no new rows start after a stop.
    const limit = options.globalLimit;
    const outcome = limit
      ? new Promise<RowResult | undefined>((resolve, reject) => {
          void limit(async () => {
            if (options.stop.aborted) return resolve(undefined);
            let result: RowResult | undefined;
            try {
              result = await execute(item);
            } catch (error) {
              return reject(error);
            }
            resolve(result);
            // The global slot too stays taken while a timed-out row's task runs on.
            await heldFor(result);
          });
        })
      : execute(item);
    if (!isPromise(outcome)) {
      settle(outcome);
      return;
    }
    pending++;
    if (inFlight) {
      inFlight.set(item, Date.now());
      outcome.then(
        (result) => {
          // Settled already if a stall gave up on it.
          if (inFlight.delete(item)) settleLater(result);
        },
        (error: unknown) => {
          inFlight.delete(item);
          failed(error);
        },
      );
      return;
    }
    outcome.then(settleLater, failed);
  };
  const failed = (error: unknown) => {
    // An executor never rejects for a user's mistake; this is a bug, and it must not be swallowed.
    slots.release();
    pending--;
    setImmediate(() => {
      throw error;
    });
  };

  try {
    const { iterator, size } = await openData(definition.evaluator.data, label(info));
    if (size !== undefined && options.filters.length === 0) options.onSize?.(size);
    let index = 0;
    let yielded = performance.now();
    // Set by an immediate armed at each check below: the event loop has gone round since that check.
    let turned = false;
    const markTurned = () => {
      turned = true;
    };
    setImmediate(markTurned);
    /** Lets the event loop go round, unless it has since the last call. */
    const turn = async () => {
      if (!turned) await new Promise((resolve) => setImmediate(resolve));
      turned = false;
      setImmediate(markTurned);
      yielded = performance.now();
    };
    try {
      for (;;) {
        // Rows that finish in microtasks (synchronous tasks, async generators) would otherwise keep the event loop
        // from timers, signals (Ctrl-C) and I/O until the eval ends. Rows that wait on timers or I/O let it go
        // round by themselves; yielding there anyway moved the next rows' start to the check phase, after the
        // timers that were due (each of W3's 20 ms sleeps then ran ~1 ms late).
        if (performance.now() - yielded > YIELD_EVERY_MS) await turn();
        if (options.plan?.exhausted?.()) break;
        const gate = slots.acquire();
        if (gate) await gate;
        if (options.stop.aborted) {
          slots.release();
          break;
        }
        let next: IteratorResult<unknown>;
        try {
          const pulled = iterator.next();
          next = isPromise(pulled) ? await pulled : (pulled as IteratorResult<unknown>);
        } catch (error) {
          slots.release();
          if (error instanceof ExitCalled) {
            throw new EvalrunError(
              "BAD_DATA",
              `${label(info)}: the data source called process.exit(${error.code === undefined ? "" : String(error.code)}) after ${index} rows; under evalrun that ends this eval's data, not the run.`,
              "Rows read before it were run and are kept; end the data by returning from the generator instead.",
            );
          }
          throw new EvalrunError(
            "BAD_DATA",
            withoutSecrets(
              `${label(info)}: the data source threw after ${index} ${index === 1 ? "row" : "rows"}: ${errorLine(error)}`,
            ),
            "Rows read before the failure were run and are kept; fix the data source and run again.",
            { cause: error },
          );
        }
        try {
          next = iteratorResult(next, label(info), index);
        } catch (error) {
          slots.release();
          throw error;
        }
        if (next.done) {
          slots.release();
          break;
        }
        const rowIndex = index++;
        rowsGiven = index;
        let raw = next.value;
        let problem: string | undefined;
        // A row that is a promise (rows made by ids.map(async ...), not awaited) is awaited, as Braintrust does.
        if (isPromise(raw)) {
          try {
            raw = await raw;
          } catch (error) {
            problem = `Row ${rowIndex} is a promise that rejected: ${errorLine(error)}`;
          }
        }
        problem ??= readableRow(raw, rowIndex);
        if (problem !== undefined) {
          slots.release();
          // A malformed row cannot match a filter; without filters it is reported, never silently dropped.
          if (options.filters.length === 0) {
            rowsRead++;
            const key = `bad:${rowIndex}`;
            for (let trial = 0; trial < info.trialCount; trial++) {
              if (options.plan && !options.plan.take(key, trial, rowIndex)) continue;
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
        const digest = row.id == null && typeof row.input === "string" ? stringDigest(row.input) : undefined;
        const key = rowKey(row, digest);
        // The slot acquired before reading the row goes to its first trial that runs.
        let holding = true;
        const trials = row.trialCount == null || info.trialsFixed ? info.trialCount : row.trialCount;
        for (let trial = 0; trial < trials; trial++) {
          if (options.plan && !options.plan.take(key, trial, rowIndex)) continue;
          // A row's trials yield as rows do: a row of a million synchronous trials kept Ctrl-C from being heard.
          if (trial > 0 && performance.now() - yielded > YIELD_EVERY_MS) await turn();
          if (!holding) {
            const more = slots.acquire();
            if (more) await more;
            if (options.stop.aborted) {
              slots.release();
              break;
            }
          }
          holding = false;
          launch({
            row,
            key,
            rowIndex,
            trial,
            digest,
            prior: options.plan?.prior?.(key, trial, rowIndex, row),
          });
        }
        if (holding) slots.release();
      }
    } finally {
      try {
        await iterator.return?.();
      } catch (error) {
        // The data source's own cleanup (a generator's `finally`) threw: the data's problem, not evalrun's, and
        // the rows already read are kept.
        closing = new EvalrunError(
          "BAD_DATA",
          withoutSecrets(
            `${label(info)}: the data source threw while being closed after ${rowsRead} rows: ${errorLine(error)}`,
          ),
          "Fix the data source's cleanup (a generator's finally block); the rows read before it ran and are kept.",
        );
      }
    }
  } catch (error) {
    if (!isEvalrunError(error)) throw error;
    failure = error;
  } finally {
    options.stop.removeEventListener("abort", wake);
    // After the hard stop, rows still in flight are dropped (their results are not wanted), not waited for: a task
    // that ignores its signal must not keep an interrupted run, or a watch-mode restart, from ending.
    if (pending > 0 && !options.hardStop.aborted) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        options.hardStop.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }
  return { rowsRead, rowsGiven, interrupted: options.stop.aborted, failure: failure ?? closing };
}

/**
 * checkRow's answer, or why the row cannot be read at all: a getter or a Proxy trap of the row that throws (a lazy
 * ORM object) fails its row, as a malformed row does, not the run.
 */
function readableRow(raw: unknown, rowIndex: number): string | undefined {
  try {
    const problem = checkRow(raw, rowIndex);
    if (problem === undefined) void (raw as EvalCase).input;
    return problem;
  } catch (error) {
    return `Row ${rowIndex} could not be read: a getter or Proxy of the row threw ${errorLine(error)}. Give rows plain values.`;
  }
}

import { randomUUID } from "node:crypto";
import { describeValue } from "../define/errors.js";
import type { EvalCase, EvalHooks, Evaluator, Metadata, Scorer } from "../define/types.js";
import { userFrame } from "../util/stack.js";
import { normalizeScore } from "./scores.js";
import type { RowError, RowResult } from "./types.js";

export interface ItemContext {
  evaluator: Evaluator<unknown, unknown, unknown, Metadata>;
  /** Name for each scorer's bare values, by index. */
  scorerNames: string[];
  timeout: number | undefined;
  /** Fires when an interrupted run stops waiting for in-flight rows; their results are dropped. */
  hardStop: AbortSignal;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `threw ${describeValue(error)}`;
}

function taskError(error: unknown): RowError {
  return {
    kind: "task",
    message: errorText(error),
    stack: error instanceof Error ? error.stack : undefined,
  };
}

function scorerError(name: string, error: unknown): string {
  const frame = error instanceof Error ? userFrame(error) : undefined;
  return `Scorer "${name}" threw ${errorText(error)}${frame ? ` (at ${frame.file}:${frame.line}:${frame.column})` : ""}`;
}

interface Scored {
  scores: Record<string, number | null>;
  errors: Record<string, string> | undefined;
  metadata: Record<string, Record<string, unknown>> | undefined;
}

async function score(scorers: Scorer[], names: string[], args: Parameters<Scorer>[0]): Promise<Scored> {
  const settled = await Promise.all(
    scorers.map(async (scorer) => {
      try {
        return { value: await scorer(args) };
      } catch (error) {
        return { thrown: error };
      }
    }),
  );
  const out: Scored = { scores: {}, errors: undefined, metadata: undefined };
  settled.forEach((result, i) => {
    const name = names[i] ?? `scorer_${i}`;
    if ("thrown" in result) {
      out.errors ??= {};
      out.errors[name] = scorerError(name, result.thrown);
      return;
    }
    const normalized = normalizeScore(result.value, name);
    if (!normalized.ok) {
      out.errors ??= {};
      out.errors[name] = normalized.error;
      return;
    }
    for (const s of normalized.scores) {
      out.scores[s.name] = s.score;
      if (s.metadata) {
        out.metadata ??= {};
        out.metadata[s.name] = s.metadata;
      }
    }
  });
  return out;
}

/**
 * Runs one (row, trial): the task, then every scorer at once. Errors become data on the result. With a timeout,
 * the row's signal aborts and the result records a timeout even if the task ignores the signal (its promise is
 * left behind; #4's workers can kill such a task, in-process it cannot be). Returns undefined when the run was
 * hard-stopped before the row finished.
 */
export async function runItem(
  ctx: ItemContext,
  row: EvalCase,
  key: string,
  rowIndex: number,
  trialIndex: number,
): Promise<RowResult | undefined> {
  // An AbortController costs more than a trivial task; most tasks never read the signal, so make it on demand.
  let controller: AbortController | undefined;
  const signal = () => {
    controller ??= new AbortController();
    return controller.signal;
  };
  const start = Date.now();
  const t0 = performance.now();
  const metadata: Record<string, unknown> = row.metadata ? { ...row.metadata } : {};
  const tags = row.tags ? [...row.tags] : [];
  const hooks: EvalHooks = {
    metadata,
    expected: row.expected,
    tags,
    trialIndex,
    get signal() {
      return signal();
    },
    meta: (fields) => {
      Object.assign(metadata, fields);
    },
  };
  let phase = "task" as "task" | "scoring";
  let taskOutput: unknown;
  let failure: RowError | undefined;
  let scored: Scored | undefined;

  const work = async () => {
    try {
      taskOutput = await ctx.evaluator.task(row.input, hooks);
    } catch (error) {
      failure = taskError(error);
      return;
    }
    phase = "scoring";
    scored = await score(ctx.evaluator.scores as Scorer[], ctx.scorerNames, {
      input: row.input,
      output: taskOutput,
      expected: row.expected,
      metadata,
      tags,
      trialIndex,
      get signal() {
        return signal();
      },
    });
  };

  let outcome: "done" | "timeout" | "stopped" = "done";
  if (ctx.timeout === undefined && !ctx.hardStop.aborted) {
    // The common path: no timer, no listener, nothing to race.
    await work();
  } else {
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const cut = new Promise<"timeout" | "stopped">((resolve) => {
      if (ctx.timeout !== undefined) timer = setTimeout(() => resolve("timeout"), ctx.timeout);
      onStop = () => resolve("stopped");
      if (ctx.hardStop.aborted) onStop();
      else ctx.hardStop.addEventListener("abort", onStop, { once: true });
    });
    outcome = await Promise.race([work().then(() => "done" as const), cut]);
    clearTimeout(timer);
    if (onStop) ctx.hardStop.removeEventListener("abort", onStop);
  }
  if (outcome === "stopped") {
    controller?.abort(new Error("evalrun: the run was interrupted"));
    return undefined;
  }
  if (outcome === "timeout") {
    const reason = new Error(`Row timed out after ${ctx.timeout} ms`);
    reason.name = "TimeoutError";
    controller?.abort(reason);
    failure = {
      kind: "timeout",
      message: `Timed out after ${ctx.timeout} ms${phase === "scoring" ? " while scoring" : ""}; the row's signal was aborted.`,
    };
  }
  const end = Date.now();
  const result: RowResult = {
    id: randomUUID(),
    input: row.input,
    // undefined (left out of JSON) when the task did not finish
    output: phase === "scoring" ? taskOutput : undefined,
    expected: row.expected,
    scores: outcome === "done" && scored ? scored.scores : {},
    metadata: { ...metadata },
    tags: [...tags],
    metrics: { start: start / 1000, end: end / 1000, duration: (performance.now() - t0) / 1000 },
    row_key: key,
    row_index: rowIndex,
    trial_index: trialIndex,
  };
  if (row.id !== undefined) result.row_id = String(row.id);
  if (failure) result.error = failure;
  if (outcome === "done" && scored?.errors) result.score_errors = scored.errors;
  if (outcome === "done" && scored?.metadata) result.score_metadata = scored.metadata;
  return result;
}

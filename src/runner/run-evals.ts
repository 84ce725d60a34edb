import { setMaxListeners } from "node:events";
import os from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import { EvalrunError } from "../define/errors.js";
import { guardExit } from "../engine/exit-guard.js";
import { startWorkerPool, type WorkerPool } from "../engine/pool.js";
import { runItem } from "../engine/row.js";
import { onlyThese } from "../engine/row-key.js";
import { runEval } from "../engine/run-eval.js";
import { Stalls } from "../engine/stalls.js";
import type { EvalInfo } from "../engine/types.js";
import { checkRuleEvals, errorsWithin, gateVerdict } from "../gate/verdict.js";
import type { EvalOutcome, RunResult } from "../report/reporter.js";
import { isBaselineFileRef } from "../store/baseline-file.js";
import { DISCARD } from "../store/eval-sink.js";
import { prepareExportDir } from "../store/run-export.js";
import { EvalAggregate } from "../summary/aggregate.js";
import type { ExperimentSummary } from "../summary/types.js";
import { ownPackageRoot } from "../util/own-package.js";
import { userFrame } from "../util/stack.js";
import { evalrunVersion } from "../util/version.js";
import { checkRunOptions } from "./check-options.js";
import { assessEval, committedBaselines, gateOptions, orphanBaselines } from "./gate-step.js";
import type { RunEvalsOptions } from "./options.js";
import { type PreparedRun, prepareRun } from "./prepare.js";
import { exportRun } from "./run-export.js";
import { checkSelection, combinePlans, describeSelection, selectionPlan } from "./selection.js";
import { type PlannedEval, StoreSession } from "./store-session.js";

export interface RunEvalsResult extends RunResult {
  /** One per eval that ran, in the order the evals were found. */
  summaries: ExperimentSummary[];
}

const DEFAULT_GRACE_MS = 2000;

function userLocation(stack: string): string {
  const frame = userFrame(stack);
  return frame ? `at ${frame.file}:${frame.line}:${frame.column}` : "location unknown";
}

function startPool(prepared: PreparedRun): Promise<WorkerPool> {
  return startWorkerPool({
    workers: prepared.workers === "auto" ? os.availableParallelism() : prepared.workers,
    filename: path.join(ownPackageRoot(), "dist", "worker.js"),
    heapMb: workerHeapMb(process.env.EVALRUN_WORKER_HEAP_MB),
    loadFloorMs: workerLoadMs(process.env.EVALRUN_WORKER_LOAD_MS),
  });
}

function workerLoadMs(given: string | undefined): number | undefined {
  if (given === undefined || given.trim() === "") return undefined;
  const ms = Number(given);
  if (!Number.isInteger(ms) || ms < 100)
    throw new EvalrunError(
      "USAGE",
      `EVALRUN_WORKER_LOAD_MS must be a whole number of milliseconds, 100 or more; it is ${JSON.stringify(given.length > 12 ? `${given.slice(0, 12)}…` : given)}.`,
      "e.g. EVALRUN_WORKER_LOAD_MS=30000 for an eval file whose top-level code takes long, or unset it for 10 s.",
    );
  return ms;
}

/** Below this a thread cannot start at all (at 4 MB it died before its first row, and the run waited forever). */
const MIN_WORKER_HEAP_MB = 8;

function workerHeapMb(given: string | undefined): number | undefined {
  if (given === undefined || given.trim() === "") return undefined;
  const heap = Number(given);
  if (!Number.isInteger(heap) || heap < MIN_WORKER_HEAP_MB)
    throw new EvalrunError(
      "USAGE",
      `EVALRUN_WORKER_HEAP_MB must be a whole number of megabytes, ${MIN_WORKER_HEAP_MB} or more; it is ${JSON.stringify(given.length > 12 ? `${given.slice(0, 12)}…` : given)}.`,
      "e.g. EVALRUN_WORKER_HEAP_MB=512, or unset it for Node's default.",
    );
  return heap;
}

/**
 * Finds, compiles, loads and runs evals, and returns their summaries. The CLI is a thin layer over this; it
 * throws an EvalrunError only for problems that stop the whole run (bad config or flags, no eval files).
 */
export async function runEvals(options: RunEvalsOptions = {}): Promise<RunEvalsResult> {
  const started = performance.now();
  await checkRunOptions(options);
  // Errors name the eval files' own lines (their bundles carry inline source maps), as under the CLI; without it a
  // host process without --enable-source-maps stored and reported the compiled bundles' paths and lines.
  process.setSourceMapsEnabled(true);
  const prepared = await prepareRun(options);
  return executeRun(prepared, options, started);
}

/** What the CLI's process knows that the run's verdict needs: errors that escaped eval code, how it was stopped. */
export interface ProcessContext {
  /** Errors that escaped eval code in this thread (a throw in a timer, a rejection nobody awaited), so far. */
  strayErrors(): number;
  /** The exit code of the signal that stopped the run (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). */
  stopCode(): number;
}

export async function executeRun(
  prepared: PreparedRun,
  options: RunEvalsOptions,
  started = performance.now(),
  context?: ProcessContext,
): Promise<RunEvalsResult> {
  const reporters = options.reporters ?? [];
  // The first error a reporter's onRow threw: rethrown once every row is stored and reported.
  let reporterError: unknown;
  const gate = gateOptions(options.gate, prepared.config.gate);
  checkRuleEvals(
    [...gate.minScores, ...gate.rowThresholds],
    prepared.infos.map((i) => i.name),
  );
  checkSelection(prepared.definitions, options.selection);
  // Relative to the run's directory (runEvals({ cwd })), as its paths and store are.
  const exportDir = options.exportDir ? path.resolve(prepared.cwd, options.exportDir) : undefined;
  if (exportDir) prepareExportDir(exportDir, options.exportDir);
  // A shard's means cover part of the rows: thresholds and regressions are judged once the shards are merged.
  const shard = options.selection?.shard;
  // Threads start loading eval bundles while the store is opened and experiments are planned.
  const pooled = (info: EvalInfo) =>
    prepared.workers === "auto" ? info.timeout !== undefined : prepared.workers > 0;
  const pool = prepared.infos.some(pooled) ? await startPool(prepared) : undefined;
  const session = await StoreSession.open({
    location: prepared.store,
    root: prepared.root,
    git: await prepared.git,
    evalrunVersion: evalrunVersion(),
    resume: options.resume === true,
    retryErrors: options.retryErrors === true,
    baseline: options.baseline,
    // A baseline file (--baseline x.jsonl) holds one eval; the others still compare with their committed files.
    baselineFiles:
      options.baseline && !isBaselineFileRef(options.baseline)
        ? undefined
        : committedBaselines(prepared.infos, prepared.baselineDir, prepared.cwd),
    keepRows: options.exportDir !== undefined,
    selection: describeSelection(options.selection, prepared.filters),
  });
  const releaseExit = prepared.ownProcess ? () => {} : guardExit();
  try {
    const { planned, skipped } = session.plan(
      prepared.definitions.map((definition, i) => ({ definition, info: prepared.infos[i] as EvalInfo })),
    );
    const stop = new AbortController();
    const hardStop = new AbortController();
    const stalls = new Stalls();
    const unwatchStalls = stalls.watchProcess();
    // The pool's threads keep the process alive, so it says when everything waits on nothing (beforeExit cannot).
    pool?.whenIdle(() => stalls.fire());
    // Every eval listens on these, and every row in flight that reads its signal or has a timeout: more than the
    // 10 Node allows before it prints a leak warning, and bounded by the evals and their concurrency.
    setMaxListeners(0, stop.signal, hardStop.signal);
    const onInterrupt = () => {
      stop.abort();
      const cut = () => {
        hardStop.abort();
        pool?.stopAll();
      };
      // No grace (a watch-mode restart): rows in flight are cut now, before any of them can finish.
      if (options.graceMs === 0) cut();
      else setTimeout(cut, options.graceMs ?? DEFAULT_GRACE_MS).unref();
    };
    if (options.signal?.aborted) onInterrupt();
    else options.signal?.addEventListener("abort", onInterrupt, { once: true });

    try {
      for (const r of reporters)
        await r.onRunStart?.(
          planned.map((p) => p.info),
          prepared.problems,
        );
    } catch (error) {
      session.discard(planned);
      throw error;
    }
    const globalLimit = prepared.maxConcurrency ? pLimit(prepared.maxConcurrency) : undefined;
    // The pool closes once its last eval is done: its threads would keep the process alive, and so keep Node from
    // saying (beforeExit, see Stalls) that an eval left in this thread waits on something that can never come.
    let pooledLeft = planned.filter((p) => pooled(p.info)).length;

    const runOne = async (p: PlannedEval): Promise<EvalOutcome> => {
      const info = p.info;
      for (const r of reporters) await r.onEvalStart?.(info);
      const aggregate = new EvalAggregate(info.scorerNames);
      session.seed(p, aggregate);
      const rerun = prepared.rerun?.get(info.name);
      if (rerun) session.keepFrom(p, rerun, aggregate);
      const selected = options.selection
        ? await selectionPlan(p.definition, prepared.filters, options.selection)
        : undefined;
      const base = rerun ? onlyThese(new Map(rerun.pairs)) : p.plan;
      const plan = selected ? combinePlans([selected], base) : base;
      const ran = await runEval(p.definition, info, {
        filters: prepared.filters,
        globalLimit,
        stop: stop.signal,
        hardStop: hardStop.signal,
        stalls,
        plan,
        executor:
          pool && pooled(info)
            ? (ctx) =>
                pool.register(
                  {
                    key: info.name,
                    bundle: p.definition.bundle ?? "",
                    loadMs: p.definition.loadMs,
                    file: p.definition.file,
                    name: info.name,
                    timeout: info.timeout,
                    scorerNames: info.scorerNames,
                  },
                  (item) => runItem(ctx, item),
                )
            : undefined,
        onRow(row) {
          // A row that finishes after the hard stop was cut off: it is not a result of this run.
          if (hardStop.signal.aborted) return;
          aggregate.add(row);
          p.writer.write(row);
          for (const r of reporters) {
            try {
              r.onRow?.(info, row);
            } catch (error) {
              // A reporter's bug must not cost the run its rows: the run goes on, and fails once they are stored.
              reporterError ??= error;
            }
          }
        },
        onSize(rows) {
          p.writer.expect?.(rows * info.trialCount);
          if (!plan) for (const r of reporters) r.onEvalSize?.(info, rows);
        },
      });
      if (pool && pooled(info) && --pooledLeft === 0) void pool.close();
      aggregate.finish();
      const { summary, comparison, rows } = await session.finish(
        p,
        aggregate,
        !ran.interrupted && ran.failure === undefined,
        ran.failure && `[${ran.failure.code}] ${ran.failure.message}`,
      );
      const outcome: EvalOutcome = {
        info,
        summary,
        rowsRead: ran.rowsRead,
        rowsGiven: ran.rowsGiven,
        taskErrors: aggregate.taskErrors,
        timeouts: aggregate.timeouts,
        dataErrors: aggregate.dataErrors,
        scorerErrorRows: aggregate.scorerErrorRows,
        interrupted: ran.interrupted,
        failure: ran.failure
          ? { code: ran.failure.code, message: ran.failure.message, hint: ran.failure.hint }
          : undefined,
        comparison,
        errorsTolerated: errorsWithin(summary, prepared.maxErrorRate),
        ...assessEval({
          db: session.store.db,
          info,
          definition: p.definition,
          experiment: p.experiment,
          baseline: p.baseline,
          rowsKept: p.writer !== DISCARD,
          rows,
          summary,
          comparison,
          options: gate,
          // Shard 1/1 holds every row, so its verdict is the run's (a matrix of one job may have no merge step).
          gatesLeftTo:
            shard && shard.total > 1
              ? `gates are left to \`evalrun merge\` (this run is shard ${shard.index}/${shard.total})`
              : ran.failure !== undefined &&
                  ran.rowsRead === 0 &&
                  (gate.failOnRegression ||
                    gate.requireBaseline ||
                    gate.minScores.length > 0 ||
                    Object.keys(p.definition.evaluator.thresholds ?? {}).length > 0)
                ? // One line, not a FAIL per score ("save a new baseline" among them) burying the cause: the
                  // eval has failed already, with its error.
                  `gates not evaluated: the eval stopped before any row (${ran.failure.code})`
                : undefined,
        }),
      };
      for (const r of reporters) await r.onEvalEnd?.(info, summary, outcome);
      return outcome;
    };

    let evals: EvalOutcome[];
    try {
      evals = await Promise.all(planned.map(runOne));
    } finally {
      options.signal?.removeEventListener("abort", onInterrupt);
      unwatchStalls();
    }
    await pool?.close();
    const strays = pool?.strays ?? [];
    const ruling = verdict(evals, prepared);
    if (strays.length > 0 && ruling.exitCode === 0) {
      ruling.exitCode = 1;
      ruling.reasons.push(
        `${strays.length} error(s) escaped the eval code in worker threads (see the notes)`,
      );
    }
    if (context) {
      // A rejection nobody handled is reported once the event loop turns; rows that finish in microtasks can end
      // the run before it does. The reports must carry the exit code the process ends with.
      await new Promise((resolve) => setImmediate(resolve));
      const escaped = context.strayErrors();
      if (escaped > 0 && ruling.exitCode === 0) {
        ruling.exitCode = 1;
        ruling.reasons.push(
          `${escaped} error(s) escaped the eval code (a throw in a timer, a promise nobody awaited: the log shows each)`,
        );
      }
      if (ruling.exitCode === 130) ruling.exitCode = context.stopCode();
    }
    const gated = gateVerdict(evals, gate, ruling);
    const orphans =
      gate.failOnRegression && prepared.searched && (!options.baseline || isBaselineFileRef(options.baseline))
        ? await orphanBaselines({
            evals: prepared.infos,
            searched: prepared.searched,
            baselineDir: prepared.baselineDir,
            failedFiles: prepared.problems.map((p) => p.file),
            cwd: prepared.cwd,
          })
        : [];
    if (exportDir)
      await exportRun(session, planned, exportDir, {
        shard: options.selection?.shard,
        // The rows a run of every shard selects (--first, --filter...): merge keeps it, and refuses shards that differ.
        selection: describeSelection({ ...options.selection, shard: undefined }, prepared.filters),
      });
    const result: RunEvalsResult = {
      evals,
      summaries: evals.map((e) => e.summary),
      problems: prepared.problems,
      interrupted: stop.signal.aborted,
      exitCode: gated.exitCode,
      reasons: gated.reasons,
      gateErrors: gated.errors,
      escapedErrors: strays.length + (context?.strayErrors() ?? 0),
      threadNotes: pool?.notices ?? [],
      notes: [
        ...gated.notes,
        ...orphans,
        ...prepared.notices,
        ...skipped.map((s) => `${s.definition.name}: skipped, ${s.reason}`),
        ...session.notes,
        ...(pool?.notices ?? []),
        ...countedNotes(strays.map((e) => `${e.message}${e.stack ? ` (${userLocation(e.stack)})` : ""}`)),
      ],
      store: session.store.location,
      durationSeconds: (performance.now() - started) / 1000,
    };
    // Each reporter gets the end of the run even when one before it could not write its report.
    for (const r of reporters) {
      try {
        await r.onRunEnd?.(result);
      } catch (error) {
        reporterError ??= error;
      }
    }
    if (reporterError !== undefined) throw reporterError;
    return result;
  } finally {
    releaseExit();
    await pool?.close();
    await session.close();
  }
}

/**
 * Exit code 0 only when every file loaded, every eval ran to the end and no row errored beyond the allowance.
 * `reasons` says why in one line each (and notes a pass with no eval files).
 */
function verdict(evals: EvalOutcome[], prepared: PreparedRun): { exitCode: number; reasons: string[] } {
  const reasons: string[] = [];
  if (prepared.problems.length > 0) {
    reasons.push(
      `${prepared.problems.length} eval file problem(s) (compile, load or definition errors) above`,
    );
  }
  for (const e of evals) {
    if (e.failure) reasons.push(`${e.info.name}: ${e.failure.code}: stopped before the end of its data`);
    const rows = e.summary.metrics.rows.metric;
    const errors = e.summary.metrics.errors.metric;
    if (errors > 0 && !errorsWithin(e.summary, prepared.maxErrorRate)) {
      const allowance = prepared.maxErrorRate > 0 ? ` (allowed: ${prepared.maxErrorRate})` : "";
      reasons.push(`${e.info.name}: ${errors} of ${rows} results errored${allowance}`);
    }
  }
  if (evals.some((e) => e.interrupted)) {
    return {
      exitCode: 130,
      reasons: ["interrupted: summaries cover the rows that finished", ...reasons],
    };
  }
  if (reasons.length > 0) return { exitCode: 1, reasons };
  if (prepared.files.length === 0)
    return { exitCode: 0, reasons: ["no eval files found; passing (--pass-with-no-evals)"] };
  return { exitCode: 0, reasons: [] };
}

/** Notes once each, counted: a file's top-level error repeats in every worker thread that imports the file. */
function countedNotes(notes: string[]): string[] {
  const counts = new Map<string, number>();
  for (const n of notes) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([note, n]) => (n === 1 ? note : `${note} (${n} times)`));
}

import { AsyncLocalStorage } from "node:async_hooks";
import { isEvalrunError } from "../define/errors.js";
import type { EvalDefinition } from "../define/types.js";
import { evalInfo, type PreparedRun, type Rerun, type RunSettings } from "../runner/prepare.js";
import { executeRun } from "../runner/run-evals.js";
import type { GitInfo } from "../store/types.js";
import { RunCollector } from "./run-collector.js";
import type { EvalState, RunRecord } from "./state.js";
import type { WatchView } from "./views.js";

export interface EvalRunsOptions {
  cwd: string;
  verbose: boolean;
  /** --baseline, for every run. */
  baseline: string | undefined;
  view: WatchView;
  /** The branch and commit to record on the next experiment. */
  git: () => GitInfo;
  /** A run has ended: finished, interrupted or refused. */
  onEnd: () => void;
}

/** What one run needs: the eval, where it comes from, and what the session knows of it. */
export interface RunRequest {
  file: string;
  definition: EvalDefinition;
  state: EvalState;
  settings: RunSettings;
  /** Watch mode's `f`: only these results run again. */
  rerun: Rerun | undefined;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
  /** Said when it ends interrupted. */
  why: string;
}

export const interruptedBy = (what: string) =>
  `interrupted: ${what} while it ran; running it again (its rows so far are stored as an interrupted experiment)`;

/**
 * The runs of a watch session, one `executeRun` per eval, so that a change restarts the evals it affects and no
 * other. A new run of an eval aborts the one before and starts once that one has been stored as interrupted.
 */
export class EvalRuns {
  private readonly runs = new Map<string, ActiveRun>();
  /** Evals that --baseline names nothing of: they run without it. */
  private readonly noBaseline = new Set<string>();
  /** Thread notes said already: each save re-runs the same evals, and the same words every time would bury them. */
  private readonly saidThreadNotes = new Set<string>();
  private readonly dataOwner = new AsyncLocalStorage<string>();

  constructor(private readonly o: EvalRunsOptions) {}

  get size(): number {
    return this.runs.size;
  }

  /** The eval file whose `data` function is being read in this async context, if any. */
  readingDataOf(): string | undefined {
    return this.dataOwner.getStore();
  }

  abort(name: string, why: string): void {
    const run = this.runs.get(name);
    if (!run || run.controller.signal.aborted) return;
    run.why = why;
    run.controller.abort();
  }

  /** Aborts every run and resolves once all have ended (each stored as interrupted). */
  async abortAll(why: string): Promise<void> {
    for (const name of this.runs.keys()) this.abort(name, why);
    await Promise.all([...this.runs.values()].map((run) => run.done));
  }

  start(request: RunRequest): void {
    const { definition, state } = request;
    const name = definition.name;
    const prior = this.runs.get(name);
    if (prior) this.abort(name, interruptedBy("a change arrived"));
    const controller = new AbortController();
    const collector = new RunCollector({
      cwd: this.o.cwd,
      maxErrorsShown: this.o.verbose ? 50 : 3,
      onProgress: () => {
        if (!state.running) return;
        state.running.rows = collector.rows;
        state.running.total = collector.total;
        this.o.view.refresh();
      },
    });
    const data = definition.evaluator.data;
    if (typeof data === "function") {
      // Files its data function reads count for this eval file, even after an await.
      const read = data as () => unknown;
      const owned = <T>(fn: () => T): T => this.dataOwner.run(request.file, fn);
      definition.evaluator.data = (() => owned(() => ownedIterator(read(), owned))) as typeof data;
    }
    const run: ActiveRun = { controller, why: interruptedBy("a change arrived"), done: Promise.resolve() };
    run.done = (async () => {
      // The run it replaces ends first, so the store records it as interrupted before this one starts.
      await prior?.done;
      if (controller.signal.aborted) return;
      state.running = { rows: 0, total: undefined };
      state.failure = undefined;
      this.o.view.refresh();
      try {
        await this.execute(request, collector, run);
      } finally {
        state.running = undefined;
        if (this.runs.get(name) === run) this.runs.delete(name);
        this.o.onEnd();
      }
    })().catch((error: unknown) => {
      this.o.view.note(
        `evalrun hit an internal error (please report it): ${(error as Error).stack ?? error}`,
      );
    });
    this.runs.set(name, run);
  }

  private async execute(request: RunRequest, collector: RunCollector, run: ActiveRun): Promise<void> {
    const { file, definition, state, settings, rerun } = request;
    const name = definition.name;
    const prepared: PreparedRun = {
      cwd: settings.cwd,
      config: settings.loaded.config,
      files: [file],
      definitions: [definition],
      infos: [evalInfo(definition, settings.overrides, new Date())],
      problems: [],
      filters: settings.filters,
      maxConcurrency: settings.maxConcurrency,
      passWithNoEvals: true,
      maxErrorRate: settings.maxErrorRate,
      store: settings.store,
      root: settings.root,
      git: this.o.git(),
      workers: settings.workers,
      notices: [],
      rerun: rerun ? new Map([[name, rerun]]) : undefined,
    };
    const baseline = this.noBaseline.has(name) ? undefined : this.o.baseline;
    let result: Awaited<ReturnType<typeof executeRun>>;
    try {
      result = await executeRun(prepared, {
        reporters: [collector],
        signal: run.controller.signal,
        graceMs: 0,
        baseline,
      });
    } catch (error) {
      if (!isEvalrunError(error)) throw error;
      if (error.code === "NOT_FOUND" && baseline !== undefined) {
        // As in a plain run, an eval that --baseline names nothing of is compared with nothing.
        this.noBaseline.add(name);
        state.base = null;
        this.o.view.note(
          `${name}: --baseline ${baseline} names no experiment of this eval; it runs without one.`,
        );
        return this.execute(request, collector, run);
      }
      state.failure = `[${error.code}] ${error.message}`;
      state.running = undefined;
      this.o.view.problem({ code: error.code, file, message: error.message, hint: error.hint });
      return;
    }
    for (const note of result.threadNotes ?? []) {
      if (this.saidThreadNotes.has(note)) continue;
      this.saidThreadNotes.add(note);
      this.o.view.note(note);
    }
    const outcome = result.evals[0];
    state.running = undefined;
    if (!outcome) return;
    if (outcome.interrupted) {
      this.o.view.interrupted(state, run.why);
      return;
    }
    const record: RunRecord = {
      summary: outcome.summary,
      outcome,
      errors: collector.errors,
      errorRows: collector.errorRows,
      failing: collector.failing,
      experimentId: outcome.info.experimentId,
      rerunOf: rerun ? sum(rerun.pairs) : undefined,
    };
    // A run with no rows (its data failed, a filter selected none) has no means to compare with: the next run is
    // compared with the one before it (it read "new vs previous" while its score had dropped 50%).
    if (state.last === undefined || state.last.summary.metrics.rows.metric > 0) state.previous = state.last;
    state.last = record;
    if (state.base === undefined) {
      const cmp = outcome.comparison;
      state.base = cmp && !this.noBaseline.has(name) ? { name: cmp.experimentName, means: cmp.means } : null;
    }
    this.o.view.finished(state);
  }
}

export function sum(counts: Map<string, number>): number {
  let n = 0;
  for (const c of counts.values()) n += c;
  return n;
}

/**
 * An async generator's body runs on each next(), not when the data function is called: its reads count for the
 * eval file only when next() runs in the file's context too. Anything else is returned as it is.
 */
function ownedIterator(value: unknown, owned: <T>(fn: () => T) => T): unknown {
  if (typeof value !== "object" || value === null) return value;
  const gen = value as Partial<AsyncGenerator<unknown>>;
  if (typeof gen.next !== "function" || typeof gen[Symbol.asyncIterator] !== "function") return value;
  const next = gen.next.bind(gen);
  const wrapped: AsyncIterableIterator<unknown> = {
    next: (...args) => owned(() => next(...args)),
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  if (typeof gen.return === "function") {
    const ret = gen.return.bind(gen);
    wrapped.return = (v?: unknown) => owned(() => ret(v));
  }
  return wrapped;
}

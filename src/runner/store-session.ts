import { existsSync } from "node:fs";
import path from "node:path";
import { EvalrunError } from "../define/errors.js";
import type { EvalCase, EvalDefinition } from "../define/types.js";
import type { PriorRun } from "../engine/row.js";
import { type RunPlan, resultKey, skipDone } from "../engine/row-key.js";
import { type EvalInfo, OUTPUT_LOSSY } from "../engine/types.js";
import { codeDigest } from "../loader/code-digest.js";
import { importBaselineFile, isBaselineFileRef, readExportHeader } from "../store/baseline-file.js";
import { DISCARD, type EvalSink, StoreSink } from "../store/eval-sink.js";
import { Experiments } from "../store/experiments.js";
import { importFile } from "../store/import.js";
import type { SinkOutcome } from "../store/ledger.js";
import { closeStore, type OpenedStore, openStore } from "../store/open.js";
import type { ScoreRows } from "../store/paired.js";
import { copyRows, keysByIndex, storedPairs, storedRows } from "../store/rows.js";
import { sameSelection, selectionArgs } from "../store/selection-text.js";
import type { Experiment, GitInfo } from "../store/types.js";
import type { EvalAggregate } from "../summary/aggregate.js";
import { type BaselineComparison, baselineComparison } from "../summary/comparison.js";
import { summarize } from "../summary/summarize.js";
import type { ExperimentSummary } from "../summary/types.js";
import { storableJson } from "../util/storable-json.js";
import type { Rerun } from "./prepare.js";

export interface StoreSessionOptions {
  /** The store file, or false for an in-memory store (--no-store). */
  location: string | false;
  /** Eval files are recorded relative to this directory. */
  root: string;
  git: GitInfo;
  evalrunVersion: string;
  resume: boolean;
  retryErrors: boolean;
  /** --baseline: an experiment name or id, or a .jsonl export. */
  baseline: string | undefined;
  /** Committed baseline files by eval name; they win over the store's experiments, --baseline wins over them. */
  baselineFiles?: ReadonlyMap<string, { file: string; shown: string }> | undefined;
  /** Keep rows even without a store (--no-store with --export). */
  keepRows?: boolean | undefined;
  /** The flags selecting the run's rows (--first, --sample, --shard, --filter); undefined when every row runs. */
  selection?: string | undefined;
}

/** One eval's part of the run, as the store sees it. */
export interface PlannedEval {
  definition: EvalDefinition;
  info: EvalInfo;
  experiment: Experiment;
  baseline: Experiment | undefined;
  plan: RunPlan | undefined;
  writer: EvalSink;
}

export interface SkippedEval {
  definition: EvalDefinition;
  info: EvalInfo;
  reason: string;
}

interface Intent {
  definition: EvalDefinition;
  info: EvalInfo;
  baseline: Experiment | undefined;
  /** --resume: the experiment to continue; --retry-errors: the experiment whose errors to re-run. */
  source: Experiment | undefined;
}

/**
 * Everything a run does with the store: choosing each eval's experiment and baseline before anything runs,
 * writing rows as they finish, and finishing each experiment with its summary and its comparison.
 */
export class StoreSession {
  readonly experiments: Experiments;

  private constructor(
    readonly store: OpenedStore,
    private readonly options: StoreSessionOptions,
    private readonly baselineFile: Experiment | undefined,
    private readonly committed: ReadonlyMap<string, Experiment> = new Map(),
  ) {
    this.experiments = new Experiments(store.db);
  }

  /** What the run's closing lines should say about the store's choices (a --baseline some evals lack). */
  readonly notes: string[] = [];
  /** --retry-errors: per eval, its errored rows scored again from their outputs and those run whole. */
  private readonly rescored = new Map<string, { rescored: number; whole: number }>();
  /** Experiments created by this session (not resumed ones). */
  private readonly created = new Set<number>();

  static async open(options: StoreSessionOptions): Promise<StoreSession> {
    if (
      (options.resume || options.retryErrors) &&
      options.location !== false &&
      !existsSync(options.location)
    ) {
      throw new EvalrunError(
        "RESUME",
        `Nothing to ${options.resume ? "resume" : "retry"}: there is no store at ${options.location} yet.`,
        "Run without --resume / --retry-errors first; they continue or repair earlier runs.",
      );
    }
    const store = openStore(options.location);
    let fromFile: Experiment | undefined;
    const ref = options.baseline;
    if (ref && isBaselineFileRef(ref)) {
      const file = path.resolve(ref);
      // A committed baseline file's header has no id: known by its bytes, it is imported once, as when it is
      // found beside its eval; an export's header has the experiment's id, which is reused.
      const project = await idlessHeaderProject(file);
      fromFile = project
        ? await importBaselineFile(store.db, file, project, ref, options.evalrunVersion)
        : await importFile(store.db, file, {
            evalrunVersion: options.evalrunVersion,
            reuseExisting: true,
          });
    }
    const committed = new Map<string, Experiment>();
    try {
      for (const [name, { file, shown }] of options.baselineFiles ?? []) {
        committed.set(name, await importBaselineFile(store.db, file, name, shown, options.evalrunVersion));
      }
    } catch (error) {
      closeStore(store);
      throw error;
    }
    return new StoreSession(store, options, fromFile, committed);
  }

  private baselineFor(definition: EvalDefinition, before: number | undefined): Experiment | undefined {
    const project = definition.name;
    // A baseline file is one eval's experiment: the other evals keep theirs (their committed files, the last run),
    // where they used to be compared with none, their gates silently off.
    if (this.baselineFile?.project === project) return this.baselineFile;
    if (this.options.baseline && !this.baselineFile)
      return this.experiments.find(this.options.baseline, project)[0];
    const committed = this.committed.get(project);
    if (committed) return committed;
    const e = definition.evaluator;
    const named = e.baseExperimentId ?? e.baseExperimentName;
    if (named) {
      const found = this.experiments.find(named, project)[0];
      if (found) return found;
      // A ported file names a base experiment that lives in Braintrust's cloud, never in a fresh local store: as
      // Braintrust does when it cannot find one, say so and compare with the default. (--baseline still refuses.)
      const fallback = this.experiments.latestFull(project, before);
      this.notes.push(
        `Eval "${project}": its ${e.baseExperimentId !== undefined ? "baseExperimentId" : "baseExperimentName"} "${named}" names no experiment in this store; ${fallback ? `compared with ${fallback.name}, its last complete run, instead` : "it runs without a baseline"}.`,
      );
      return fallback;
    }
    return this.experiments.latestFull(project, before);
  }

  /**
   * Decides each eval's experiment. Everything that can be refused (a baseline that names nothing, nothing to
   * resume) is checked for all evals before any experiment is created.
   */
  plan(evals: Array<{ definition: EvalDefinition; info: EvalInfo }>): {
    planned: PlannedEval[];
    skipped: SkippedEval[];
  } {
    const intents: Intent[] = [];
    const skipped: SkippedEval[] = [];
    for (const { definition, info } of evals) {
      let source: Experiment | undefined;
      if (this.options.resume) {
        source = this.experiments.latest(definition.name, "interrupted");
        if (!source) {
          skipped.push({ definition, info, reason: "nothing to resume (no interrupted experiment)" });
          continue;
        }
        this.checkSameSelection(definition.name, source, "resume");
        this.checkSameCode(definition, source);
      } else if (this.options.retryErrors) {
        // The last experiment a run (or a merge) made: a committed baseline file read back is dated when it was
        // read, so after a pull it was the newest, and its outputs were copied as this run's.
        source = this.experiments
          .list(definition.name)
          .find((e) => e.status !== "running" && e.source !== "import");
        const errored = source ? storedPairs(this.store.db, source.seq, "errored").length : 0;
        if (!source || errored === 0) {
          // An imported run (a CI artifact) with errors is not what a retry starts from: say so, not "none errored".
          const newest = this.experiments.list(definition.name).find((e) => e.status !== "running");
          const imported =
            newest?.source === "import" && storedPairs(this.store.db, newest.seq, "errored").length > 0;
          skipped.push({
            definition,
            info,
            reason: imported
              ? `${source ? `its last run (${source.name}) has no errored rows` : "no run of it was made here"}; ${newest.name}, which has some, was imported, and --retry-errors repairs runs made here (run the eval to run them all)`
              : "no errored rows in its last experiment",
          });
          continue;
        }
        this.checkSameSelection(definition.name, source, "retry");
      }
      const before = this.options.resume ? source?.seq : undefined;
      const baseline = this.baselineFor(definition, before);
      const ref = this.options.baseline;
      if (ref && !this.baselineFile && baseline === undefined) {
        this.notes.push(
          `${definition.name}: no experiment of it is named "${ref}", so it was compared with none`,
        );
      }
      intents.push({ definition, info, source, baseline });
    }
    this.refuseEmpty(intents, skipped);
    // One time for the run's evals: outside git their default name is a timestamp to the second, and evals
    // created across a second's tick got two names for one run.
    const now = new Date();
    const planned = intents.map((intent) => this.begin(intent, now));
    return { planned, skipped };
  }

  /**
   * --resume runs the rows the interrupted run would have run, and --retry-errors repairs the rows of the run it
   * starts from: only with that run's selection of rows. A retry with another kept the rows it left out (or ran
   * rows the earlier run never selected) and stored the result as that selection: errors it did not retry were
   * lost from view.
   */
  private checkSameSelection(name: string, source: Experiment, verb: "resume" | "retry"): void {
    const wanted = source.selection ?? undefined;
    if (sameSelection(wanted, this.options.selection)) return;
    const what = (flags: string | undefined) => (flags ? `\`${flags}\`` : "every row");
    const flag = verb === "resume" ? "--resume" : "--retry-errors";
    throw new EvalrunError(
      "RESUME",
      verb === "resume"
        ? `Eval "${name}": its interrupted experiment ${source.name} ran ${what(wanted)}, and this run selects ${what(this.options.selection)}; resuming would mix the two.`
        : `Eval "${name}": its last experiment ${source.name} ran ${what(wanted)}, and this run selects ${what(this.options.selection)}; a retry repairs the rows of that run, so it takes the same selection.`,
      wanted
        ? `${verb === "resume" ? "Resume" : "Retry"} with the same flags: evalrun ${flag} ${selectionArgs(wanted)}`
        : `${verb === "resume" ? "Resume" : "Retry"} without --first, --sample, --shard or --filter, or start a new experiment without ${flag}.`,
    );
  }

  /** Digests of the code of each bundle, read once (loader/code-digest.ts). */
  private codes = new Map<string, string | undefined>();

  private codeOf(definition: EvalDefinition): string | undefined {
    const bundle = definition.bundle;
    if (bundle === undefined) return undefined;
    if (!this.codes.has(bundle)) this.codes.set(bundle, codeDigest(bundle, definition.file));
    return this.codes.get(bundle);
  }

  /**
   * --resume continues an experiment with the code it ran: resumed after an edit (the usual Ctrl-C, fix the prompt,
   * resume), it stored rows of two versions as one complete experiment, whose means matched neither, and which
   * became the next run's baseline.
   */
  private checkSameCode(definition: EvalDefinition, source: Experiment): void {
    const now = this.codeOf(definition);
    if (source.code === null && now !== undefined) {
      this.notes.push(
        `Eval "${definition.name}": ${source.name} was interrupted under an earlier evalrun, which recorded no digest of its code, so the resume could not check it; if its code changed since, run without --resume.`,
      );
      return;
    }
    if (source.code === null || now === undefined || now === source.code) return;
    const file = definition.file ? path.relative(this.options.root, definition.file) : "its eval file";
    throw new EvalrunError(
      "RESUME",
      `Eval "${definition.name}": its code has changed since its experiment ${source.name} was interrupted (${file} or a module it imports); resuming would store results of two versions of it as one experiment.`,
      "Run without --resume to start a new experiment with the code as it is now (or undo the change to resume).",
    );
  }

  private refuseEmpty(intents: Intent[], skipped: SkippedEval[]): void {
    const ref = this.options.baseline;
    const file = this.baselineFile;
    // A file holds one eval's experiment. Not used when no eval of the run is that one (renamed? failed to load?
    // skipped?): said, where it went unsaid; an error only when no eval has a baseline at all, as before.
    if (
      file !== undefined &&
      ![...intents, ...skipped].some((i) => i.definition.name === file.project) &&
      intents.some((i) => i.baseline !== undefined)
    ) {
      this.notes.push(
        `--baseline ${ref}: it holds an experiment of eval "${file.project}", which this run did not run (renamed, or its file did not load?), so nothing was compared with it`,
      );
    }
    if (ref && intents.length > 0 && intents.every((i) => i.baseline === undefined)) {
      if (this.baselineFile) {
        throw new EvalrunError(
          "NOT_FOUND",
          `The baseline file ${ref} holds an experiment of eval "${this.baselineFile.project}", which this run does not include.`,
          `Run that eval, or pass a baseline exported from one of: ${intents.map((i) => i.definition.name).join(", ")}.`,
        );
      }
      throw this.experiments.notFound(ref, intents.length === 1 ? intents[0]?.definition.name : undefined);
    }
    if ((this.options.resume || this.options.retryErrors) && intents.length === 0 && skipped.length > 0) {
      const what = this.options.resume ? "resume" : "retry";
      throw new EvalrunError(
        "RESUME",
        `Nothing to ${what}: ${skipped.map((s) => `${s.definition.name}: ${s.reason}`).join("; ")}.`,
        this.options.resume
          ? "--resume continues an experiment a Ctrl-C, a crash or kill left interrupted; run without it to start afresh."
          : "--retry-errors re-runs the rows that errored in each eval's last experiment; there are none.",
      );
    }
  }

  private begin(intent: Intent, now: Date): PlannedEval {
    const { definition, info, source, baseline } = intent;
    const db = this.store.db;
    let experiment: Experiment;
    let plan: RunPlan | undefined;
    if (this.options.resume && source) {
      experiment = source;
      if (!this.experiments.reopen(source.seq)) {
        throw new EvalrunError(
          "RESUME",
          `Eval "${definition.name}": its interrupted experiment ${source.name} is being resumed by another evalrun already.`,
          "Let that run finish; run again without --resume for a new experiment.",
        );
      }
      const done = storedPairs(db, source.seq);
      plan = skipDone(done, keysByIndex(done));
      // Its own trial count, whatever the eval or --trials now say: the pairs it lacks are of its trials.
      if (info.trialCount !== source.trialCount)
        this.notes.push(
          `Eval "${definition.name}": resumed with its interrupted experiment's ${source.trialCount} trial(s) per row, not the ${info.trialCount} that --trials or trialCount now say (run without --resume for a new experiment with those).`,
        );
      info.trialCount = source.trialCount;
    } else {
      const e = definition.evaluator;
      // --retry-errors repairs its source's trials: with another count, its errored trials were dropped and the
      // rest stored under a count they do not have.
      if (source && info.trialCount !== source.trialCount) {
        // Said only when the user asked for another count: the default of 1 is no one's choice.
        if (info.trialsFixed === true || e.trialCount !== undefined)
          this.notes.push(
            `Eval "${definition.name}": retried with its last experiment's ${source.trialCount} trial(s) per row, not the ${info.trialCount} that --trials or trialCount now say (run without --retry-errors for a new experiment with those).`,
          );
        info.trialCount = source.trialCount;
      }
      experiment = this.experiments.create({
        project: definition.name,
        name: e.experimentName ?? this.experiments.defaultName(definition.name, this.options.git, now),
        git: this.options.git,
        evalrunVersion: this.options.evalrunVersion,
        file: definition.file ? path.relative(this.options.root, definition.file) : null,
        description: e.description ?? null,
        metadata: e.metadata ?? {},
        tags: e.tags ?? [],
        trialCount: info.trialCount,
        baseExperimentId: baseline?.id ?? null,
        selection: this.options.selection ?? null,
        code: this.codeOf(definition) ?? null,
      });
      this.created.add(experiment.seq);
      if (source) {
        if (source.code && this.codeOf(definition) !== source.code)
          this.notes.push(
            `Eval "${definition.name}": its code has changed since ${source.name} (its file or a module it imports), so its errored rows run whole, tasks too, and the rows kept from it ran the earlier version; run without --retry-errors to run them all again.`,
          );
        // --retry-errors: the new experiment starts with the last one's good rows and runs the rest: its errored
        // rows, and rows the data has gained since (else it would be stored as a complete run that lacks them).
        plan = skipDone(storedPairs(db, source.seq, "ok"), keysByIndex(storedPairs(db, source.seq)));
        plan = this.rescoring(definition, plan, source);
        copyRows(db, source.seq, experiment.seq, true);
      }
    }
    info.experimentName = experiment.name;
    info.experimentId = experiment.id;
    info.baselineName = baseline?.name;
    // With --no-store the rows are kept (in memory) only when a baseline comparison needs them.
    const keepRows =
      this.options.location !== false || baseline !== undefined || this.options.keepRows === true;
    const writer: EvalSink = keepRows ? new StoreSink(db, experiment.seq, baseline?.seq ?? null) : DISCARD;
    return { definition, info, experiment, baseline, plan, writer };
  }

  /**
   * --retry-errors: an errored result whose task finished (only a scorer failed: a judge's rate limit, a missing
   * key) is scored again from its stored output, at its own place in the data, when that place still holds the
   * same row (its input, and its data's metadata and tags, as the stored result has them) and the eval's code is
   * the one that made it. The others run again whole. finish() says how many of each there were.
   */
  private rescoring(definition: EvalDefinition, plan: RunPlan, source: Experiment): RunPlan {
    const counts = { rescored: 0, whole: 0 };
    // Each errored result by its place: its run to score again, or null when it runs whole.
    const priors = new Map<string, (PriorRun & { input: string }) | null>();
    const code = this.codeOf(definition);
    // Another version of the code may have fixed the task (its output broke a scorer): its rows run whole.
    const sameCode = source.code !== null && code !== undefined && source.code === code;
    for (const row of storedRows(this.store.db, source.seq, "errored")) {
      const key = resultKey(row.row_key, row.trial_index, row.row_index);
      // A task that failed, timed out or was cut off has no output to score: `output` is left out of its result.
      // One whose output JSON does not keep (a Date, a class instance) would be scored on another value.
      if (!sameCode || row.error !== undefined || !Object.hasOwn(row, "output") || row[OUTPUT_LOSSY]) {
        priors.set(key, null);
        continue;
      }
      priors.set(key, {
        output: row.output,
        metadata: row.metadata,
        tags: row.tags,
        metrics: row.metrics,
        input: storableJson(row.input) ?? "",
      });
    }
    // A change of code is said by the note on the rows kept (see begin()).
    this.rescored.set(definition.name, counts);
    return {
      ...plan,
      take: plan.take.bind(plan),
      prior: (key, trial, index, row) => {
        const prior = priors.get(resultKey(key, trial, index));
        if (prior === undefined) return undefined; // not errored there: a row the data has gained
        if (prior !== null && sameRow(prior, row)) {
          counts.rescored++;
          return prior;
        }
        counts.whole++;
        return undefined;
      },
    };
  }

  /** Feeds the rows an experiment already holds (resume, retry) into its totals. */
  seed(planned: PlannedEval, aggregate: EvalAggregate): void {
    if (!planned.plan) return;
    for (const row of storedRows(this.store.db, planned.experiment.seq)) aggregate.add(row);
  }

  /**
   * Watch mode's `f`: the new experiment starts with the results of `rerun.from` that are not run again, so it is
   * complete and compares like any other run. They go through the writer, so the baseline comparison sees them.
   */
  keepFrom(planned: PlannedEval, rerun: Rerun, aggregate: EvalAggregate): void {
    const source = this.experiments.byId(rerun.from);
    if (!source) return;
    const skip = new Map(rerun.pairs);
    // Read them all first: a large batch makes the writer flush, which cannot happen while a query iterates.
    for (const row of [...storedRows(this.store.db, source.seq)]) {
      const key = resultKey(row.row_key, row.trial_index, row.row_index);
      const n = skip.get(key) ?? 0;
      if (n > 0) {
        skip.set(key, n - 1);
        continue;
      }
      planned.writer.write(row);
      aggregate.add(row);
    }
  }

  /** Writes the last rows, compares with the baseline and records the experiment's status and summary. */
  async finish(
    planned: PlannedEval,
    aggregate: EvalAggregate,
    complete: boolean,
    failure?: string,
  ): Promise<{
    summary: ExperimentSummary;
    comparison: BaselineComparison | undefined;
    rows: (() => Map<string, ScoreRows>) | undefined;
  }> {
    let outcome: SinkOutcome;
    try {
      outcome = await planned.writer.finish();
    } catch (error) {
      throw new EvalrunError(
        "STORE_UNWRITABLE",
        `Could not write the rows of ${planned.info.name} to the store ${this.store.location}: ${(error as Error).message}`,
        "Check the disk and the store's permissions; the summary above still covers every row.",
        { cause: error },
      );
    }
    const base = planned.baseline;
    const moved = outcome.comparison;
    const comparison = base && moved ? baselineComparison(base, moved) : undefined;
    const summary = summarize(
      aggregate,
      { projectName: planned.info.name, experimentName: planned.experiment.name },
      comparison,
    );
    this.experiments.finish(
      planned.experiment.seq,
      complete ? "complete" : "interrupted",
      summary,
      base?.id ?? null,
      failure ?? null,
    );
    const counts = this.rescored.get(planned.info.name);
    if (counts && counts.rescored > 0) {
      const { rescored, whole } = counts;
      this.notes.push(
        `Eval "${planned.info.name}": ${rescored} errored ${rescored === 1 ? "row's" : "rows'"} scorers ran again on the stored output, without running the task (only a scorer had failed)${whole > 0 ? `; ${whole} other errored ${whole === 1 ? "row" : "rows"} ran whole` : ""}.`,
      );
    }
    return { summary, comparison, rows: outcome.rows };
  }

  /**
   * Removes the experiments this session created for evals that never started (a reporter's onRunStart threw):
   * left behind, each would read as an interrupted run with no rows, and be what --resume picks.
   */
  discard(planned: readonly PlannedEval[]): void {
    const seqs = planned.map((p) => p.experiment.seq).filter((seq) => this.created.has(seq));
    if (seqs.length > 0) this.experiments.remove(seqs);
  }

  async close(): Promise<void> {
    closeStore(this.store);
  }
}

/** The eval a JSONL file's export header names when the header carries no experiment id (a baseline file's). */
async function idlessHeaderProject(file: string): Promise<string | undefined> {
  const experiment = (await readExportHeader(file))?.experiment;
  if (experiment === undefined || experiment.id !== undefined) return undefined;
  return typeof experiment.project === "string" ? experiment.project : undefined;
}

/**
 * Whether the data's row is the one a stored result was made of: the same input, and the metadata and tags the
 * data gives it still on the result (a task may add to them; one that changed a given value runs whole).
 */
function sameRow(prior: PriorRun & { input: string }, row: EvalCase): boolean {
  if ((storableJson(row.input) ?? "") !== prior.input) return false;
  for (const [name, value] of Object.entries(row.metadata ?? {}))
    if (storableJson(value) !== storableJson(prior.metadata[name])) return false;
  for (const tag of row.tags ?? []) if (tag != null && !prior.tags.includes(String(tag))) return false;
  return true;
}

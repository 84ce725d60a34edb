import path from "node:path";
import { EvalrunError } from "../../define/errors.js";
import type { EvalInfo } from "../../engine/types.js";
import { checkRuleEvals, errorsWithin, gateVerdict } from "../../gate/verdict.js";
import { loadConfig } from "../../loader/config.js";
import { colorsFor } from "../../report/colors.js";
import type { EvalOutcome, Reporter, RunResult } from "../../report/reporter.js";
import { TerminalReporter } from "../../report/terminal.js";
import { assessEval, committedBaselines, gateOptions } from "../../runner/gate-step.js";
import { importBaselineFile, isBaselineFileRef } from "../../store/baseline-file.js";
import { compareExperiments } from "../../store/compare.js";
import { Experiments } from "../../store/experiments.js";
import { importFile } from "../../store/import.js";
import { projectRoot, storeLocation } from "../../store/location.js";
import { checkShardSet, mergeFiles, readShardFile, type ShardFile } from "../../store/merge.js";
import { openStore } from "../../store/open.js";
import { storedRows } from "../../store/rows.js";
import type { Experiment } from "../../store/types.js";
import { EvalAggregate } from "../../summary/aggregate.js";
import { type BaselineComparison, baselineComparison } from "../../summary/comparison.js";
import { summarize } from "../../summary/summarize.js";
import { evalrunVersion } from "../../util/version.js";
import { type CiFlags, gateFromFlags } from "../ci-options.js";
import { printError } from "../output.js";
import { createReporters, planReporters } from "../reporters.js";

export interface MergeFlags extends CiFlags {
  store?: string | false;
  config?: string;
  baseline?: string;
  maxErrorRate?: number;
  verbose?: boolean;
}

/**
 * `evalrun merge FILES...`: joins the exports of a sharded run (one file per eval per shard) into one experiment
 * per eval, then compares, gates and reports it as a run would: the CI matrix fans out, the verdict is one.
 */
export async function mergeCommand(files: string[], flags: MergeFlags): Promise<number> {
  const started = performance.now();
  const cwd = process.cwd();
  const root = projectRoot(cwd);
  const verbose = flags.verbose === true;
  const plan = planReporters(flags, { cwd, root, env: process.env });
  const headers = await Promise.all(files.map((f) => readShardFile(path.resolve(cwd, f), cwd)));
  const byEval = new Map<string, ShardFile[]>();
  for (const h of headers) byEval.set(h.project, [...(byEval.get(h.project) ?? []), h]);
  for (const group of byEval.values()) checkShardSet(group);
  const { config, dir } = await loadConfig(cwd, flags.config);
  const gate = gateOptions(gateFromFlags(flags), config.gate);
  const location = storeLocation({
    cwd,
    flag: flags.store,
    config: typeof config.store === "string" ? path.resolve(dir, config.store) : config.store,
  });
  const store = openStore(location);
  try {
    const db = store.db;
    const experiments = new Experiments(db);
    const baselineDir = flags.baselineDir
      ? path.resolve(cwd, flags.baselineDir)
      : config.baselineDir
        ? path.resolve(dir, config.baselineDir)
        : undefined;
    const evalFile = (group: ShardFile[]) =>
      group[0]?.evalFile ? path.join(root, group[0].evalFile) : undefined;
    const committed = committedBaselines(
      [...byEval].map(([name, group]) => ({ name, file: evalFile(group) })),
      baselineDir,
      cwd,
    );
    let fromFile: Experiment | undefined;
    if (flags.baseline && isBaselineFileRef(flags.baseline)) {
      fromFile = await importFile(db, path.resolve(cwd, flags.baseline), {
        evalrunVersion: evalrunVersion(),
        reuseExisting: true,
      });
    }
    const merged: Array<{ group: ShardFile[]; experiment: Experiment; baseline: Experiment | undefined }> =
      [];
    for (const [name, group] of byEval) {
      const experiment = await mergeFiles(db, group, evalrunVersion());
      let baseline: Experiment | undefined;
      // A baseline file holds one eval: the others keep their own baselines, as in a run.
      if (fromFile?.project === name) baseline = fromFile;
      else if (flags.baseline && !fromFile) baseline = experiments.find(flags.baseline, name)[0];
      else {
        const file = committed.get(name);
        baseline = file
          ? await importBaselineFile(db, file.file, name, file.shown, evalrunVersion())
          : experiments.latestFull(name, experiment.seq);
      }
      merged.push({ group, experiment, baseline });
    }
    if (flags.baseline && merged.every((m) => m.baseline === undefined)) {
      throw fromFile
        ? new EvalrunError(
            "NOT_FOUND",
            `The baseline file ${flags.baseline} holds eval "${fromFile.project}", which none of the merged files do.`,
            `Pass a baseline exported from one of: ${[...byEval.keys()].join(", ")}.`,
          )
        : experiments.notFound(flags.baseline);
    }
    // As a run does: a rule naming an eval the files do not hold would pass having checked nothing.
    checkRuleEvals([...gate.minScores, ...gate.rowThresholds], [...byEval.keys()]);
    const reporters = await createReporters(plan, {
      cwd,
      verbose,
      env: process.env,
      rowRules: gate.rowThresholds,
      terminal: async () =>
        new TerminalReporter({
          out: process.stdout,
          err: process.stderr,
          cwd,
          colors: colorsFor(process.stdout),
          verbose,
        }),
    });
    const infos = merged.map(({ group, experiment, baseline }) =>
      mergedInfo(group, experiment, baseline, root),
    );
    for (const r of reporters) await r.onRunStart?.(infos, []);
    const evals: EvalOutcome[] = [];
    const maxErrorRate = flags.maxErrorRate ?? config.maxErrorRate ?? 0;
    for (const [i, { group, experiment, baseline }] of merged.entries()) {
      const info = infos[i] as EvalInfo;
      evals.push(await finishMerged(db, info, group, experiment, baseline, gate, reporters, maxErrorRate));
    }
    const reasons = evals.flatMap((e) => {
      const rows = e.summary.metrics.rows.metric;
      const errors = e.summary.metrics.errors.metric;
      return errors > 0 && !e.errorsTolerated ? [`${e.info.name}: ${errors} of ${rows} results errored`] : [];
    });
    const gated = gateVerdict(evals, gate, { exitCode: reasons.length > 0 ? 1 : 0, reasons });
    const result: RunResult = {
      evals,
      problems: [],
      interrupted: false,
      exitCode: gated.exitCode,
      reasons: gated.reasons,
      notes: [
        ...gated.notes,
        ...merged.map(
          (m) =>
            `${m.experiment.project}: ${m.group.length} file${m.group.length === 1 ? "" : "s"} merged into ${m.experiment.name}`,
        ),
      ],
      store: store.location,
      durationSeconds: (performance.now() - started) / 1000,
      gateErrors: gated.errors,
    };
    for (const r of reporters) await r.onRunEnd?.(result);
    for (const error of gated.errors) printError(error, verbose);
    return result.exitCode;
  } finally {
    store.db.close();
  }
}

function mergedInfo(
  group: ShardFile[],
  e: Experiment,
  baseline: Experiment | undefined,
  root: string,
): EvalInfo {
  return {
    name: e.project,
    file: group[0]?.evalFile ? path.join(root, group[0].evalFile) : undefined,
    experimentName: e.name,
    experimentId: e.id,
    baselineName: baseline?.name,
    description: e.description ?? undefined,
    metadata: e.metadata,
    tags: e.tags,
    trialCount: e.trialCount,
    maxConcurrency: 1,
    timeout: undefined,
    scorerNames: [],
  };
}

/** Summarises, compares and gates one merged experiment, feeding its rows to the reporters as a run would. */
async function finishMerged(
  db: import("better-sqlite3").Database,
  info: EvalInfo,
  group: ShardFile[],
  experiment: Experiment,
  baseline: Experiment | undefined,
  gate: ReturnType<typeof gateOptions>,
  reporters: Reporter[],
  maxErrorRate: number,
): Promise<EvalOutcome> {
  for (const r of reporters) await r.onEvalStart?.(info);
  const aggregate = new EvalAggregate();
  // The data's rows (by index, as a run counts the rows it read): rows sharing a key are compared as one.
  const rows = new Set<number>();
  for (const row of storedRows(db, experiment.seq)) {
    aggregate.add(row);
    rows.add(row.row_index);
    for (const r of reporters) r.onRow?.(info, row);
  }
  // The wall time of a matrix is its slowest job's.
  aggregate.startedAt = 0;
  aggregate.endedAt = Math.max(0, ...group.map((f) => f.duration)) * 1000;
  const comparison: BaselineComparison | undefined = baseline
    ? baselineComparison(baseline, compareExperiments(db, experiment.seq, baseline.seq))
    : undefined;
  const summary = summarize(
    aggregate,
    { projectName: info.name, experimentName: experiment.name },
    comparison,
  );
  new Experiments(db).finish(experiment.seq, "complete", summary, baseline?.id ?? null);
  const outcome: EvalOutcome = {
    info,
    summary,
    rowsRead: rows.size,
    taskErrors: aggregate.taskErrors,
    timeouts: aggregate.timeouts,
    dataErrors: aggregate.dataErrors,
    scorerErrorRows: aggregate.scorerErrorRows,
    interrupted: false,
    failure: undefined,
    comparison,
    errorsTolerated: errorsWithin(summary, maxErrorRate),
    ...assessEval({
      db,
      info,
      definition: undefined,
      experiment,
      baseline: comparison ? baseline : undefined,
      rowsKept: true,
      summary,
      comparison,
      options: gate,
      thresholds: group[0]?.run?.thresholds,
    }),
  };
  for (const r of reporters) await r.onEvalEnd?.(info, summary, outcome);
  return outcome;
}

import { existsSync } from "node:fs";
import path from "node:path";
import { EvalrunError } from "../../define/errors.js";
import { loadConfig } from "../../loader/config.js";
import { colorsFor } from "../../report/colors.js";
import { formatPercent, plural } from "../../report/format.js";
import { BASELINE_ID_PREFIX, baselinePath, writeBaselineFile } from "../../store/baseline-file.js";
import { comparable, Experiments } from "../../store/experiments.js";
import { projectRoot, storeLocation } from "../../store/location.js";
import { openStore } from "../../store/open.js";
import type { Experiment } from "../../store/types.js";
import { writeJson } from "./store-access.js";

export interface BaselineFlags {
  store?: string;
  config?: string;
  json?: boolean;
  baselineDir?: string;
}

/**
 * The newest complete experiment of an eval that a run of every row made: not one read back from a baseline
 * file, and not a partial run (--first, --sample, --shard, --filter), whose means cover some rows only.
 */
function latestRun(experiments: Experiments, project: string): Experiment | undefined {
  return experiments.list(project).find((e) => fullRun(e) && comparable(e));
}

/** A complete run of every row, made by a run (not read back from a baseline file). */
const fullRun = (e: Experiment) =>
  e.status === "complete" && e.selection === null && !e.id.startsWith(BASELINE_ID_PREFIX);

/** How many newer complete runs of every row `latestRun` passed over, for a note. */
function passedOver(experiments: Experiments, project: string, saved: Experiment): number {
  return experiments
    .list(project)
    .filter((e) => e.seq !== saved.seq && e.created >= saved.created && fullRun(e) && !comparable(e)).length;
}

/**
 * `evalrun baseline save [EVAL...]`: writes each eval's latest complete experiment as its committed baseline
 * (`__baselines__/<eval>.jsonl` beside the eval file, or in `--baseline-dir`), for a run to compare with.
 */
export async function baselineSaveCommand(names: string[], flags: BaselineFlags): Promise<number> {
  const cwd = process.cwd();
  const root = projectRoot(cwd);
  const { config, dir } = await loadConfig(cwd, flags.config);
  const location = storeLocation({
    cwd,
    flag: flags.store,
    config: typeof config.store === "string" ? path.resolve(dir, config.store) : config.store,
  });
  if (location === false) {
    throw new EvalrunError(
      "USAGE",
      "There is no store to save a baseline from (the config sets `store: false`).",
      "Pass --store PATH, or run with a store first.",
    );
  }
  const baselineDir = flags.baselineDir
    ? path.resolve(cwd, flags.baselineDir)
    : config.baselineDir
      ? path.resolve(dir, config.baselineDir)
      : undefined;
  const store = openStore(location, { create: false });
  try {
    const experiments = new Experiments(store.db);
    const projects =
      names.length > 0
        ? names
        : [
            ...new Set(
              experiments
                .list()
                .filter(fullRun)
                .map((e) => e.project),
            ),
          ];
    if (projects.length === 0) {
      throw new EvalrunError(
        "NOT_FOUND",
        `The store ${store.location} has no complete experiment to save as a baseline.`,
        "Run your evals first (`evalrun`), then save the run you accept.",
      );
    }
    const saved: Array<{ eval: string; file: string; rows: number; experiment: string }> = [];
    const gone: string[] = [];
    const c = colorsFor(process.stdout);
    for (const project of projects) {
      const e = latestRun(experiments, project);
      const empty = !e && experiments.list(project).some(fullRun);
      if (empty && names.length === 0) {
        gone.push(`${project} (its runs had no rows, or only errors and no score)`);
        continue;
      }
      if (empty) {
        throw new EvalrunError(
          "NOT_FOUND",
          `Eval "${project}"'s complete runs had no rows, or only errors and no score: there is nothing to compare later runs with.`,
          "Fix what failed (its data, a missing key), run it again, then save.",
        );
      }
      if (!e) {
        const known = [...new Set(experiments.list().map((x) => x.project))];
        throw new EvalrunError(
          "NOT_FOUND",
          `Eval "${project}" has no complete experiment in ${store.location}.`,
          known.length > 0
            ? `Evals with experiments: ${known.join(", ")}. Run "${project}" to the end first.`
            : "Run your evals first (`evalrun`).",
        );
      }
      const file = baselinePath(project, e.file ? path.join(root, e.file) : undefined, baselineDir);
      if (!file) {
        throw new EvalrunError(
          "USAGE",
          `Experiment ${e.name} of eval "${project}" does not record its eval file, so its baseline has no place beside it.`,
          "Choose a directory for baselines: --baseline-dir DIR (or `baselineDir` in the config).",
        );
      }
      if (!baselineDir && e.file && !existsSync(path.join(root, e.file))) {
        // Without names, an eval the project no longer has (`evalrun init`'s example, replaced) is passed over:
        // every save failed on it.
        if (names.length === 0) {
          gone.push(`${project} (its last run's file ${e.file} is no longer there)`);
          continue;
        }
        // Runs look beside where the file is now: written beside where it was, it would compare with nothing.
        throw new EvalrunError(
          "USAGE",
          `Eval "${project}"'s last run (${e.name}) was of ${e.file}, which is no longer there (moved, renamed or deleted?): its baseline would land where no run looks for it.`,
          `Run the eval from its new place (\`evalrun\`), then save; keep every baseline in one directory with --baseline-dir; or, if the eval is gone for good, forget its runs: \`evalrun prune --keep 0 "${project}"\`.`,
        );
      }
      const rows = writeBaselineFile(store.db, e, file);
      const shown = path.relative(cwd, file) || file;
      saved.push({ eval: project, file: shown, rows, experiment: e.name });
      if (!flags.json) {
        const scores = Object.values(e.summary?.scores ?? {})
          .map((s) => `${s.name} ${formatPercent(s.score)}`)
          .join(" · ");
        const errors = e.summary?.metrics.errors.metric ?? 0;
        process.stdout.write(
          `${c.green("saved")} ${c.bold(shown)}: ${plural(rows, "row")} of ${project} from ${e.name}${scores ? ` (${scores})` : ""}\n`,
        );
        if (errors > 0) {
          process.stdout.write(
            `  ${c.yellow("note:")} ${plural(errors, "result")} errored; they are kept without scores and are not compared.\n`,
          );
        }
        const skipped = passedOver(experiments, project, e);
        if (skipped > 0) {
          process.stdout.write(
            `  ${c.yellow("note:")} ${plural(skipped, "newer run")} had no rows, or only errors and no score: not saved.\n`,
          );
        }
      }
    }
    if (saved.length === 0 && gone.length > 0) {
      throw new EvalrunError(
        "NOT_FOUND",
        `No eval to save: ${gone.join(", ")}.`,
        "Run the evals (from where their files are now) until a run has rows that did not error, then save; forget an eval that is gone with `evalrun prune --keep 0 EVAL`.",
      );
    }
    if (flags.json) writeJson({ saved, skipped: gone });
    else {
      if (gone.length > 0)
        process.stdout.write(
          `${c.yellow("skipped")} ${gone.join(", ")}; an eval whose file is gone is forgotten with \`evalrun prune --keep 0 EVAL\`.\n`,
        );
      process.stdout.write(c.dim("Commit the files: runs compare with them from now on.\n"));
    }
    return 0;
  } finally {
    store.db.close();
  }
}

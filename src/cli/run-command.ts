import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { EvalrunConfig } from "../define/config.js";
import { describeValue, EvalrunError, isEvalrunError } from "../define/errors.js";
import { exitNow, newSignals } from "../engine/exit-guard.js";
import { watchForStalls } from "../engine/stall-notice.js";
import { isLoadFailure, loadingFiles, onSlowLoad } from "../loader/load.js";
import { colorsFor } from "../report/colors.js";
import { plural, shownPath, stackLocation } from "../report/format.js";
import { formatProblem } from "../report/problems.js";
import { createProgress } from "../report/progress.js";
import type { Reporter } from "../report/reporter.js";
import { reserveStdout } from "../report/stdout.js";
import { TerminalReporter } from "../report/terminal.js";
import { gateOptions } from "../runner/gate-step.js";
import { listEvals } from "../runner/list.js";
import type { RunEvalsOptions } from "../runner/options.js";
import { prepareRun } from "../runner/prepare.js";
import { executeRun } from "../runner/run-evals.js";
import { projectRoot } from "../store/location.js";
import { withoutSecrets } from "../util/secrets.js";
import { storableJson } from "../util/storable-json.js";
import { closestName } from "../util/suggest.js";
import { type CiFlags, gateFromFlags, selectionFromFlags } from "./ci-options.js";
import { printError } from "./output.js";
import { createReporters, planReporters, type ReporterPlan } from "./reporters.js";

export interface RunFlags extends CiFlags {
  filter: string[];
  list?: boolean;
  jsonl?: boolean;
  maxConcurrency?: number;
  trials?: number;
  workers?: number | "auto";
  timeout?: number;
  progress: boolean;
  envFile?: string;
  passWithNoEvals?: boolean;
  maxErrorRate?: number;
  config?: string;
  verbose?: boolean;
  store?: string | false;
  baseline?: string;
  resume?: boolean;
  retryErrors?: boolean;
  watch?: boolean;
}

const NOT_IN_WATCH: Record<string, string> = {
  first: "--first",
  sample: "--sample",
  seed: "--seed",
  shard: "--shard",
  export: "--export",
  ci: "--ci",
  reporter: "--reporter",
  outfile: "--outfile",
  minScore: "--min-score",
  rowThreshold: "--row-threshold",
  failOnRegression: "--fail-on-regression",
  maxDrop: "--max-drop",
  confidence: "--confidence",
  requireBaseline: "--require-baseline",
};

/** `evalrun experimens`: a word that is no path and is one typo from a command reads as that command, mistyped. */
function misspelledCommand(paths: string[], cmd: Command, cwd: string): EvalrunError | undefined {
  const first = paths[0];
  if (first === undefined || /[/\\.*?{}[\]]/.test(first) || existsSync(path.resolve(cwd, first)))
    return undefined;
  const near = closestName(
    first,
    cmd.commands.map((c) => c.name()),
  );
  if (near === undefined) return undefined;
  return new EvalrunError(
    "USAGE",
    `"${first}" is neither a command nor a path here (did you mean the command "${near}"?).`,
    "Run `evalrun --help` for the commands; paths are eval files, directories or globs.",
  );
}

/** Flags given on the command line; defaults are left out so the config file's values apply. */
function runOptions(paths: string[], flags: RunFlags, cmd: Command): RunEvalsOptions {
  const given = (key: string) => cmd.getOptionValueSource(key) === "cli";
  return {
    paths,
    filter: flags.filter.length > 0 ? flags.filter : undefined,
    ...(flags.maxConcurrency !== undefined && { maxConcurrency: flags.maxConcurrency }),
    ...(flags.trials !== undefined && { trials: flags.trials }),
    ...(flags.workers !== undefined && { workers: flags.workers }),
    ...(flags.timeout !== undefined && { timeout: flags.timeout }),
    ...(flags.envFile !== undefined && { envFile: flags.envFile }),
    ...(given("passWithNoEvals") && { passWithNoEvals: true }),
    ...(flags.maxErrorRate !== undefined && { maxErrorRate: flags.maxErrorRate }),
    ...(flags.config !== undefined && { config: flags.config }),
    ...(given("store") && { store: flags.store }),
    ...(flags.baseline !== undefined && { baseline: flags.baseline }),
    ...(flags.resume && { resume: true }),
    ...(flags.retryErrors && { retryErrors: true }),
    gate: gateFromFlags(flags),
    selection: selectionFromFlags(flags),
    ...(flags.export !== undefined && { exportDir: flags.export }),
    ...(flags.baselineDir !== undefined && { baselineDir: flags.baselineDir }),
  };
}

export async function runCommand(paths: string[], flags: RunFlags, cmd: Command): Promise<number> {
  const verbose = flags.verbose === true;
  const cwd = process.cwd();
  try {
    const options = runOptions(paths, flags, cmd);
    const misspelled = misspelledCommand(paths, cmd, cwd);
    if (misspelled) throw misspelled;
    if ((flags.resume || flags.retryErrors) && flags.store === false) {
      throw new EvalrunError(
        "USAGE",
        `${flags.resume ? "--resume" : "--retry-errors"} cannot be used with --no-store: it works from the store's earlier experiments.`,
        "Drop --no-store (or give --store PATH, the store the earlier run used).",
      );
    }
    if (flags.resume && flags.retryErrors) {
      throw new EvalrunError(
        "USAGE",
        "--resume and --retry-errors cannot be used together.",
        "--resume finishes an interrupted experiment; --retry-errors re-runs the errored rows of a finished one. Pick one.",
      );
    }
    if (flags.watch) {
      const given = { "--list": flags.list, "--resume": flags.resume, "--retry-errors": flags.retryErrors };
      const clash = Object.entries(given).find(([, on]) => on)?.[0];
      if (clash) {
        throw new EvalrunError(
          "USAGE",
          `--watch cannot be combined with ${clash}.`,
          "A watch session runs afresh and keeps running; press f in it to re-run the rows that errored or scored below 1.",
        );
      }
      // Flags of a single run that a watch session has no use for: refused, not silently ignored.
      const unused = Object.entries(NOT_IN_WATCH)
        .filter(([key]) => cmd.getOptionValueSource(key) === "cli")
        .map(([, flag]) => flag);
      if (unused.length > 0) {
        throw new EvalrunError(
          "USAGE",
          `--watch does not take ${unused.join(", ")}: ${unused.length > 1 ? "they select rows for, or gate and report on, one run" : "it selects rows for, or gates and reports on, one run"}.`,
          "Run without --watch for a gated or partial run; in watch mode, --filter narrows the rows (a few by id: --filter 'id=^(q1|q2|q3)$') and f re-runs the failing ones.",
        );
      }
      return await (await import("./commands/lazy.js")).watchCommand(options, {
        jsonl: flags.jsonl === true,
        verbose,
      });
    }
    if (flags.list) {
      const selecting = ["first", "sample", "shard"].filter((key) => cmd.getOptionValueSource(key) === "cli");
      if (selecting.length > 0) {
        throw new EvalrunError(
          "USAGE",
          `--list counts each eval's rows after --filter; it does not take ${selecting.map((k) => `--${k}`).join(", ")}.`,
          "Drop them to list the evals, or run with them to see the rows they select in the summaries.",
        );
      }
      return await listCommand(options, flags.jsonl === true, cwd, verbose);
    }
    const plan = planReporters(flags, { cwd, root: projectRoot(cwd), env: process.env });
    const interrupt = new AbortController();
    let interrupts = 0;
    const isNew = newSignals();
    // SIGTERM (a CI job cancelled, a container stopped) and SIGHUP (the terminal closed) stop the run as Ctrl-C
    // does, summaries and store included, and exit with their own codes (143, 129).
    let signalCode = 130;
    // Until the files are compiled and loaded, nothing is stored that a stop could lose: a signal then ends the
    // process at once (a file's top-level await could otherwise hold it for good, past a CI job's timeout).
    let loading = true;
    const onSignal = (code: number, name: string) => () => {
      if (!isNew()) return;
      interrupts++;
      if (interrupts > 1) exitNow(code);
      signalCode = code;
      if (loading) {
        process.stderr.write(
          `\nStopped${name === "SIGINT" ? "" : ` (${name})`} while loading the eval files; nothing ran.\n`,
        );
        exitNow(code);
      }
      process.stderr.write(
        `\nStopping${name === "SIGINT" ? "" : ` (${name})`}: no new rows start; waiting briefly for rows in flight (Ctrl-C again to quit now)…\n`,
      );
      interrupt.abort();
      // Rows are cut at the end of the grace period; whatever still holds the run then (a task that ignores its
      // signal and blocks, a stuck write) must not outlast a CI job's timeout: rows committed so far are kept.
      setTimeout(() => {
        process.stderr.write(
          `evalrun: the run had not ended ${STOP_DEADLINE_MS / 1000} s after the stop; exiting.\n`,
        );
        exitNow(code);
      }, STOP_DEADLINE_MS).unref();
    };
    const handlers = [
      ["SIGINT", onSignal(130, "SIGINT")],
      ["SIGTERM", onSignal(143, "SIGTERM")],
      ["SIGHUP", onSignal(129, "SIGHUP")],
    ] as const;
    for (const [name, handler] of handlers) process.on(name, handler);
    const strays = watchStrayErrors(cwd);
    // Ctrl-C is handled here, on the event loop: say so when eval code keeps the loop from turning.
    const stalls = watchForStalls();
    // From before the files load: their top-level logs would land among the JSON lines too.
    const releaseStdout = plan.machineOnStdout ? reserveStdout() : () => {};
    try {
      const started = performance.now();
      onSlowLoad((source, afterMs) => {
        process.stderr.write(
          `evalrun: still loading ${path.relative(cwd, source) || source} after ${afterMs / 1000} s: its top-level code awaits something (a download, a connection) that has not come. Ctrl-C stops the run.\n`,
        );
      });
      const prepared = await prepareRun(options)
        .catch(async (error: unknown) => {
          // A terminal's Ctrl-C (or a CI job's SIGTERM to the group) reaches esbuild's process too, and it can die
          // before this process's handler has run: its build fails first. The handler then ends the run as a stop.
          if (/The service (was stopped|is no longer running)/.test(String((error as Error)?.message)))
            await new Promise((resolve) => setTimeout(resolve, 500));
          throw error;
        })
        .finally(() => onSlowLoad(undefined));
      loading = false;
      const reporters = await makeReporters(flags, cmd, prepared.config, cwd, verbose, plan);
      const result = await executeRun(
        prepared,
        { ...options, reporters, signal: interrupt.signal },
        started,
        {
          strayErrors: () => strays.count(),
          stopCode: () => signalCode,
        },
      );
      for (const error of result.gateErrors ?? []) printError(error, verbose);
      // One that escaped after the reports were written (a timer a task left behind) still fails the run.
      if (strays.count() > 0 && result.exitCode === 0) {
        process.stderr.write(`Exit code 1: ${strays.count()} error(s) escaped the eval code (see above).\n`);
        return 1;
      }
      return result.exitCode;
    } finally {
      releaseStdout();
      stalls();
      for (const [name, handler] of handlers) process.off(name, handler);
      strays.stop();
    }
  } catch (error) {
    return printError(error, verbose);
  }
}

/**
 * A promise nobody awaited, or a throw in a timer callback, belongs to no row and would otherwise end the process
 * and lose the run. Report it (the first few), keep going, and fail the run at the end.
 */
function watchStrayErrors(cwd: string): { count(): number; stop(): void } {
  let count = 0;
  const onStray = (error: unknown) => {
    // Node also rejects an internal promise with the error of a CommonJS module that throws while an eval file
    // imports it; that error is the file's load problem, reported as such (one turn later, it is known).
    if (loadingFiles()) setImmediate(() => report(error));
    else report(error);
  };
  const report = (error: unknown) => {
    if (isLoadFailure(error)) return;
    count++;
    if (count === 4)
      process.stderr.write("  … more errors escaped the eval code: counted at the end, not shown.\n");
    if (count > 3) return;
    const text = withoutSecrets(
      error instanceof Error ? `${error.name}: ${error.message}` : strayValue(error),
    );
    const where = error instanceof Error ? stackLocation(error.stack, cwd) : undefined;
    const c = colorsFor(process.stderr);
    process.stderr.write(
      `${c.red("✘")} ${c.red("[UNHANDLED]")} An error escaped the eval code${where ? ` at ${where}` : ""}: ${text}\n` +
        `  ${c.dim("hint:")} ${isEvalrunError(error) && error.hint ? error.hint.replace(/\.$/, "") : "await every promise a task or scorer starts"}; the run goes on and will exit 1.\n`,
    );
  };
  process.on("unhandledRejection", onStray);
  process.on("uncaughtException", onStray);
  return {
    count: () => count,
    stop() {
      process.off("unhandledRejection", onStray);
      process.off("uncaughtException", onStray);
    },
  };
}

async function makeReporters(
  flags: RunFlags,
  cmd: Command,
  config: EvalrunConfig,
  cwd: string,
  verbose: boolean,
  plan: ReporterPlan,
): Promise<Reporter[]> {
  const colors = colorsFor(process.stdout);
  const errColors = colorsFor(process.stderr);
  const terminal = async () => {
    // The config's `progress` applies unless --no-progress was given; bars need both streams on a terminal.
    const wanted =
      cmd.getOptionValueSource("progress") === "cli" ? flags.progress : (config.progress ?? true);
    const show = wanted && process.stderr.isTTY === true && process.stdout.isTTY === true;
    const progress = show ? await createProgress(process.stderr, errColors) : undefined;
    const stored = (cmd.getOptionValueSource("store") === "cli" ? flags.store : config.store) !== false;
    return new TerminalReporter({
      out: process.stdout,
      err: process.stderr,
      cwd,
      colors,
      verbose,
      progress,
      stored,
    });
  };
  // The config's gate.rowThreshold specs count as the flags' do (the gate itself merges both the same way).
  const rowRules = gateOptions({ rowThresholds: flags.rowThreshold }, config.gate).rowThresholds;
  return createReporters(plan, { cwd, verbose, env: process.env, rowRules, terminal });
}

async function listCommand(
  options: RunEvalsOptions,
  jsonl: boolean,
  cwd: string,
  verbose: boolean,
): Promise<number> {
  // With --jsonl, the eval files' top-level logs go to stderr, as in a run.
  const release = jsonl ? reserveStdout() : () => {};
  let listed: Awaited<ReturnType<typeof listEvals>>;
  try {
    listed = await listEvals(options);
  } finally {
    release();
  }
  const { evals, problems } = listed;
  const c = colorsFor(process.stdout);
  for (const p of problems)
    process.stderr.write(`${formatProblem(p, cwd, colorsFor(process.stderr), verbose)}\n\n`);
  if (jsonl) {
    for (const e of evals)
      process.stdout.write(
        `${JSON.stringify({ name: e.name, file: shownPath(e.file, cwd), rows: e.rows, trialCount: e.trialCount, results: e.results, ...(e.error && { error: e.error }) })}\n`,
      );
  } else {
    const width = Math.max(0, ...evals.map((e) => e.name.length));
    for (const e of evals) {
      const rows =
        e.rows === null
          ? c.red(`data error: ${e.error}`)
          : e.results !== null && e.results !== e.rows * e.trialCount
            ? `${plural(e.rows, "row")}, ${plural(e.results, "result")} (rows give their own trialCount)`
            : `${plural(e.rows, "row")}${e.trialCount > 1 ? ` × ${e.trialCount} trials` : ""}`;
      process.stdout.write(`${c.bold(e.name.padEnd(width))}  ${c.dim(shownPath(e.file, cwd))}  ${rows}\n`);
    }
    process.stdout.write(
      `${plural(evals.length, "eval")}${problems.length ? `, ${plural(problems.length, "file problem")}` : ""}\n`,
    );
  }
  return problems.length > 0 || evals.some((e) => e.rows === null) ? 1 : 0;
}

/** How long after a stop signal the run may take to end (rows get 2 s, summaries and the store the rest). */
const STOP_DEADLINE_MS = 15_000;

/** A rejected value that is not an Error, as text: String() throws on an object without a prototype. */
function strayValue(value: unknown): string {
  try {
    return typeof value === "object" && value !== null
      ? `${describeValue(value)} ${storableJson(value) ?? ""}`
      : String(value);
  } catch {
    return describeValue(value);
  }
}

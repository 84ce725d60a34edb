import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EvalrunConfig } from "../define/config.js";
import { EvalrunError, isEvalrunError } from "../define/errors.js";
import type { EvalDefinition } from "../define/types.js";
import { parseFilter, type RowFilter } from "../engine/filters.js";
import { scorerName } from "../engine/scores.js";
import type { EvalInfo } from "../engine/types.js";
import { type CompileFailure, compileEvalFile } from "../loader/compile.js";
import { CONFIG_NAMES, type LoadedConfig, loadConfig } from "../loader/config.js";
import { discoverEvalFiles, nearMissEvalFiles } from "../loader/discover.js";
import { loadEnvFile } from "../loader/env-file.js";
import { codeFrame, formatCompileMessage } from "../loader/format-compile.js";
import { loadEvalFiles } from "../loader/load.js";
import type { Problem } from "../loader/problems.js";
import { projectRoot, storeLocation } from "../store/location.js";
import type { GitInfo } from "../store/types.js";
import { gitInfo } from "../util/git.js";
import type { RunEvalsOptions } from "./options.js";

export const DEFAULT_MAX_CONCURRENCY = 10;

/**
 * By default ("auto") an eval with a timeout runs in worker threads, one per core, because only a thread can be
 * stopped when a task blocks past its timeout; any other eval runs in the main thread, which the benchmarks show
 * is faster for all but CPU-heavy tasks (README, Benchmarks).
 */
export const DEFAULT_WORKERS = "auto";

/** More threads than this per core only add contention. */
const MAX_WORKERS_PER_CORE = 4;

function workerCount(
  requested: number | "auto" | undefined,
  fromFlag: boolean,
): {
  workers: number | "auto";
  notices: string[];
} {
  const wanted = requested ?? DEFAULT_WORKERS;
  const cap = Math.max(1, os.availableParallelism()) * MAX_WORKERS_PER_CORE;
  if (wanted === "auto" || wanted <= cap) return { workers: wanted, notices: [] };
  return {
    workers: cap,
    notices: [
      `${fromFlag ? `--workers ${wanted}` : `The config's workers: ${wanted}`} was capped at ${cap} (${MAX_WORKERS_PER_CORE} per core on this machine).`,
    ],
  };
}

export interface PreparedRun {
  cwd: string;
  config: EvalrunConfig;
  files: string[];
  definitions: EvalDefinition[];
  infos: EvalInfo[];
  problems: Problem[];
  filters: RowFilter[];
  maxConcurrency: number | undefined;
  passWithNoEvals: boolean;
  maxErrorRate: number;
  /** The store file, or false for an in-memory one. */
  store: string | false;
  /** The project root: where the default store lives and what eval files are recorded relative to. */
  root: string;
  /** Still coming while eval files load: git's two answers take 15-40 ms, which the loading hides. */
  git: GitInfo | Promise<GitInfo>;
  /** Worker threads for rows (0: rows run in this thread; "auto": see DEFAULT_WORKERS). */
  workers: number | "auto";
  /** Said after the run (e.g. a --workers value that was capped). */
  notices: string[];
  /** Where committed baselines live, when not beside each eval file. */
  baselineDir?: string | undefined;
  /** What was searched for eval files, when it was the config's (or the default) search rather than given paths. */
  searched?: { paths: string[]; base: string } | undefined;
  /** Watch mode's `f`, per eval name: re-run only these pairs of an earlier experiment, keeping its other rows. */
  rerun?: Map<string, Rerun> | undefined;
  /**
   * The process is the eval file's own (a file run directly): its process.exit() keeps ending the process. Under
   * evalrun, process.exit() in eval code ends only its row (engine/exit-guard.ts).
   */
  ownProcess?: boolean | undefined;
}

export interface Rerun {
  /** The id of the experiment whose other results the new one starts with. */
  from: string;
  /** How many results of each (row, trial) at its place (see resultKey) to run again. */
  pairs: Map<string, number>;
}

/** --trials and --timeout (or runEvals' options), and the config's values, which only fill in for an eval's own. */
export interface Overrides {
  trials?: number | undefined;
  timeout?: number | undefined;
  defaults?: { trials?: number | undefined; timeout?: number | undefined };
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export function evalInfo(definition: EvalDefinition, overrides: Overrides, now: Date): EvalInfo {
  const e = definition.evaluator;
  return {
    name: definition.name,
    file: definition.file,
    experimentName: e.experimentName ?? `${definition.name}-${timestamp(now)}`,
    experimentId: undefined,
    baselineName: undefined,
    description: e.description,
    metadata: e.metadata ?? {},
    tags: e.tags ?? [],
    // A flag (or runEvals option) beats the eval's own value; the config's is a default that the eval's beats.
    trialCount: overrides.trials ?? e.trialCount ?? overrides.defaults?.trials ?? 1,
    trialsFixed: overrides.trials !== undefined,
    maxConcurrency: e.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    timeout: overrides.timeout ?? e.timeout ?? overrides.defaults?.timeout,
    scorerNames: e.scores.map((scorer, i) => scorerName(scorer, i)),
  };
}

/** A file that did not compile, as a problem: where, what, and a code frame. */
export function compileProblem(result: CompileFailure, cwd: string): Problem {
  const [first, ...rest] = result.errors;
  const frame = first ? codeFrame(first) : undefined;
  const others = rest.map((m) => formatCompileMessage(m, cwd));
  return {
    code: "COMPILE",
    file: first?.file ?? result.source,
    line: first?.line,
    column: first?.column !== undefined ? first.column + 1 : undefined,
    message: `Compile error: ${first?.text ?? "unknown"}${rest.length > 0 ? ` (and ${rest.length} more)` : ""}`,
    detail: [frame, ...others].filter(Boolean).join("\n") || undefined,
    hint: compileHint(first?.text ?? ""),
  };
}

/** The package an import names: "lodash" of "lodash/fp", "@scope/pkg" of "@scope/pkg/sub". */
const packageOf = (specifier: string) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

function compileHint(text: string): string {
  const resolve = /^Could not resolve "([^"]+)"/.exec(text);
  if (resolve) {
    const name = resolve[1] as string;
    // A file ported from Braintrust keeps an import the port missed: evalrun exports those names itself.
    if (name === "braintrust" || name === "autoevals")
      return `evalrun has what "${name}" gives an eval file (Eval, its scorers, its tracing calls): import them from "evalrun" instead. The other eval files still ran.`;
    // An alias (@/lib/x, ~/x, #x) is not a package: installing nothing would fix it.
    return /^[@~#]\//.test(name) || name.startsWith("#")
      ? `"${name}" looks like a tsconfig paths alias: evalrun reads the paths of the tsconfig.json nearest the file (not a referenced tsconfig.app.json); define it there. The other eval files still ran.`
      : `Install the package (npm i ${packageOf(name)}) or fix the import path; the other eval files still ran.`;
  }
  const loader = /^No loader is configured for "(\.[^"]+)" files/.exec(text);
  if (loader) {
    return `evalrun compiles scripts, JSON and text (.txt) imports: read a ${loader[1]} file at run time instead, readFileSync(new URL("./file${loader[1]}", import.meta.url), "utf8"). The other eval files still ran.`;
  }
  return "Fix the error and run again; the other eval files still ran.";
}

/** What the options and the config decide before any eval file is read (watch mode keeps them between runs). */
export interface RunSettings {
  cwd: string;
  loaded: LoadedConfig;
  filters: RowFilter[];
  /** What to discover, and the directory those paths are relative to. */
  paths: string[];
  base: string;
  overrides: Overrides;
  maxConcurrency: number | undefined;
  passWithNoEvals: boolean;
  maxErrorRate: number;
  store: string | false;
  root: string;
  workers: number | "auto";
  notices: string[];
  baselineDir: string | undefined;
  /** The paths came from the command line (not the config's). */
  fromFlags: boolean;
}

/** Loads the config and the env file and resolves every setting; throws for bad config or flags. */
export async function runSettings(options: RunEvalsOptions): Promise<RunSettings> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  if (options.cwd !== undefined && !existsSync(cwd)) {
    throw new EvalrunError(
      "USAGE",
      `runEvals(): cwd ${cwd} does not exist.`,
      "Give cwd the project directory (where paths, the config, .env and the store are looked for).",
    );
  }
  const loaded: LoadedConfig =
    options.config === false
      ? { config: {}, file: undefined, dir: cwd, inputs: [] }
      : await loadConfig(cwd, options.config);
  const config = loaded.config;
  const filters =
    options.filter !== undefined || loaded.file === undefined
      ? (options.filter ?? []).map(parseFilter)
      : (config.filter ?? []).map((spec) => configFilter(spec, loaded.file as string, cwd));
  if (options.envFile !== false) {
    const envFile =
      options.envFile ?? (config.envFile ? path.resolve(loaded.dir, config.envFile) : undefined);
    loadEnvFile(cwd, envFile, loaded.file ? loaded.dir : projectRoot(cwd));
  }
  const fromFlags = options.paths !== undefined && options.paths.length > 0;
  return {
    cwd,
    loaded,
    filters,
    paths: fromFlags ? (options.paths ?? []) : (config.paths ?? ["."]),
    fromFlags,
    base: fromFlags ? cwd : loaded.dir,
    overrides: {
      trials: options.trials,
      timeout: options.timeout,
      defaults: { trials: config.trials, timeout: config.timeout },
    },
    maxConcurrency: options.maxConcurrency ?? config.maxConcurrency,
    passWithNoEvals: options.passWithNoEvals ?? config.passWithNoEvals ?? false,
    maxErrorRate: options.maxErrorRate ?? config.maxErrorRate ?? 0,
    store: storeLocation({
      cwd,
      flag: options.store,
      config: typeof config.store === "string" ? path.resolve(loaded.dir, config.store) : config.store,
    }),
    root: projectRoot(cwd),
    ...workerCount(options.workers ?? config.workers, options.workers !== undefined),
    baselineDir: options.baselineDir
      ? path.resolve(cwd, options.baselineDir)
      : config.baselineDir
        ? path.resolve(loaded.dir, config.baselineDir)
        : undefined,
  };
}

/** Everything before running: config, env file, discovery, compile and load. File problems are collected. */
export async function prepareRun(options: RunEvalsOptions): Promise<PreparedRun> {
  const settings = await runSettings(options);
  const { cwd, paths, passWithNoEvals, root } = settings;
  const config = settings.loaded.config;
  const git = gitInfo(root);
  const files = await discoverEvalFiles(paths, {
    base: settings.base,
    exclude: config.exclude,
    excludeBase: settings.loaded.dir,
    fromConfig:
      !settings.fromFlags && config.paths !== undefined && settings.loaded.file
        ? path.relative(cwd, settings.loaded.file) || settings.loaded.file
        : undefined,
  });
  if (files.length === 0 && !passWithNoEvals) {
    const near = await nearMissEvalFiles(paths, settings.base, {
      globs: config.exclude,
      base: settings.loaded.dir,
    });
    const shown = near
      .slice(0, 3)
      .map(({ file, rename }) => `${path.relative(cwd, file) || file} (to run it, name it ${rename})`);
    const more = near.length > 3 ? ` and ${near.length - 3} more` : "";
    throw new EvalrunError(
      "NO_EVALS",
      `No eval files found in ${paths.map((p) => shownDir(p, settings.base, cwd)).join(", ")} (looked for *.eval.ts, .mts, .cts, .tsx, .js, .mjs, .cjs, .jsx; node_modules, dist, build, .git and .evalrun are skipped).${shown.length > 0 ? ` Files named almost so: ${shown.join(", ")}${more}.` : ""}`,
      "Create one with `npx evalrun init`, pass the files to run, or use --pass-with-no-evals.",
    );
  }
  const problems: Problem[] = [];
  const compiled = await Promise.all(files.map((file) => compileEvalFile(file)));
  const good = [];
  for (const result of compiled) {
    if (result.ok) {
      good.push(result);
      continue;
    }
    problems.push(compileProblem(result, cwd));
  }
  const { definitions, problems: loadProblems, notices: keyNotices } = await loadEvalFiles(good);
  problems.push(...loadProblems);
  problems.sort((a, b) => a.file.localeCompare(b.file));
  const now = new Date();
  return {
    cwd,
    config,
    files,
    definitions,
    infos: definitions.map((d) => evalInfo(d, settings.overrides, now)),
    problems,
    filters: settings.filters,
    maxConcurrency: settings.maxConcurrency,
    passWithNoEvals,
    maxErrorRate: settings.maxErrorRate,
    store: settings.store,
    root,
    git,
    workers: settings.workers,
    notices: [...settings.notices, ...keyNotices, ...nestedConfigs(files, settings.loaded, cwd)],
    baselineDir: settings.baselineDir,
    searched: settings.fromFlags ? undefined : { paths: settings.paths, base: settings.base },
  };
}

/**
 * Config files beside eval files that are not the run's config: in a monorepo, running from the root runs a
 * package's evals without its config (its paths, trials, env file, store), and the numbers then differ from a
 * run in the package. Said once per such config.
 */
function nestedConfigs(files: readonly string[], loaded: LoadedConfig, cwd: string): string[] {
  const root = loaded.file ? loaded.dir : cwd;
  const found = new Set<string>();
  const seen = new Set<string>();
  for (const file of files) {
    for (let dir = path.dirname(file); dir !== root && !seen.has(dir); dir = path.dirname(dir)) {
      seen.add(dir);
      const relative = path.relative(root, dir);
      if (relative.startsWith("..") || path.isAbsolute(relative) || relative === "") break;
      const config = CONFIG_NAMES.find((name) => existsSync(path.join(dir, name)));
      if (config) found.add(path.join(dir, config));
    }
  }
  return [...found].map((config) => {
    const shown = path.relative(cwd, config);
    const used = loaded.file
      ? `this run's config is ${path.relative(cwd, loaded.file) || loaded.file}`
      : "this run has no config";
    return `${shown} was not used (${used}): its evals ran with this run's settings. Run from ${path.dirname(shown)}, or pass --config ${shown}, for its own.`;
  });
}

/** A searched path as the user can find it: relative to the current directory ("." is the config's directory). */
function shownDir(given: string, base: string, cwd: string): string {
  const absolute = path.resolve(base, given);
  const relative = path.relative(cwd, absolute);
  return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? absolute : relative;
}

/** A config `filter` entry, parsed as --filter's are; a bad one is the config's problem, named as such. */
function configFilter(spec: string, file: string, cwd: string) {
  try {
    return parseFilter(spec);
  } catch (error) {
    if (!isEvalrunError(error)) throw error;
    throw new EvalrunError(
      "CONFIG",
      `The config file ${path.relative(cwd, file) || file} is invalid: its filter entry ${error.message.replace(/^--filter /, "")}`,
      error.hint?.replaceAll("--filter ", "filter: "),
    );
  }
}

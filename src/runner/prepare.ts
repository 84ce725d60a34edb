import os from "node:os";
import path from "node:path";
import type { EvalrunConfig } from "../define/config.js";
import { EvalrunError } from "../define/errors.js";
import type { EvalDefinition } from "../define/types.js";
import { parseFilter, type RowFilter } from "../engine/filters.js";
import { scorerName } from "../engine/scores.js";
import type { EvalInfo } from "../engine/types.js";
import { compileEvalFile } from "../loader/compile.js";
import { loadConfig } from "../loader/config.js";
import { discoverEvalFiles } from "../loader/discover.js";
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

function workerCount(requested: number | "auto" | undefined): {
  workers: number | "auto";
  notices: string[];
} {
  const wanted = requested ?? DEFAULT_WORKERS;
  const cap = Math.max(1, os.availableParallelism()) * MAX_WORKERS_PER_CORE;
  if (wanted === "auto" || wanted <= cap) return { workers: wanted, notices: [] };
  return {
    workers: cap,
    notices: [`--workers ${wanted} was capped at ${cap} (${MAX_WORKERS_PER_CORE} per core on this machine).`],
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
  git: GitInfo;
  /** Worker threads for rows (0: rows run in this thread; "auto": see DEFAULT_WORKERS). */
  workers: number | "auto";
  /** Said after the run (e.g. a --workers value that was capped). */
  notices: string[];
  /** Where committed baselines live, when not beside each eval file. */
  baselineDir?: string | undefined;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export function evalInfo(
  definition: EvalDefinition,
  overrides: { trials?: number; timeout?: number },
  now: Date,
): EvalInfo {
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
    trialCount: overrides.trials ?? e.trialCount ?? 1,
    maxConcurrency: e.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    timeout: overrides.timeout ?? e.timeout,
    scorerNames: e.scores.map((scorer, i) => scorerName(scorer, i)),
  };
}

/** Everything before running: config, env file, discovery, compile and load. File problems are collected. */
export async function prepareRun(options: RunEvalsOptions): Promise<PreparedRun> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const loaded =
    options.config === false
      ? { config: {}, file: undefined, dir: cwd }
      : await loadConfig(cwd, options.config);
  const config = loaded.config;
  const filters = (options.filter ?? config.filter ?? []).map(parseFilter);
  if (options.envFile !== false) {
    const envFile =
      options.envFile ?? (config.envFile ? path.resolve(loaded.dir, config.envFile) : undefined);
    loadEnvFile(cwd, envFile);
  }
  const fromFlags = options.paths !== undefined && options.paths.length > 0;
  const paths = fromFlags ? (options.paths ?? []) : (config.paths ?? ["."]);
  const files = await discoverEvalFiles(paths, {
    base: fromFlags ? cwd : loaded.dir,
    exclude: config.exclude,
  });
  const passWithNoEvals = options.passWithNoEvals ?? config.passWithNoEvals ?? false;
  if (files.length === 0 && !passWithNoEvals) {
    throw new EvalrunError(
      "NO_EVALS",
      `No eval files found in ${paths.join(", ")} (looked for *.eval.ts, .mts, .cts, .tsx, .js, .mjs, .cjs, .jsx; node_modules, dist, build, .git and .evalrun are skipped).`,
      "Create one with `npx evalrun init`, pass the files to run, or use --pass-with-no-evals.",
    );
  }
  const problems: Problem[] = [];
  const root = projectRoot(cwd);
  const [git, compiled] = await Promise.all([
    gitInfo(root),
    Promise.all(files.map((file) => compileEvalFile(file))),
  ]);
  const good = [];
  for (const result of compiled) {
    if (result.ok) {
      good.push(result);
      continue;
    }
    const [first, ...rest] = result.errors;
    const frame = first ? codeFrame(first) : undefined;
    const others = rest.map((m) => formatCompileMessage(m, cwd));
    problems.push({
      code: "COMPILE",
      file: first?.file ?? result.source,
      line: first?.line,
      column: first?.column !== undefined ? first.column + 1 : undefined,
      message: `Compile error: ${first?.text ?? "unknown"}${rest.length > 0 ? ` (and ${rest.length} more)` : ""}`,
      detail: [frame, ...others].filter(Boolean).join("\n") || undefined,
      hint: first?.text.startsWith("Could not resolve")
        ? "Install the package (npm i <name>) or fix the import path; the other eval files still ran."
        : "Fix the error and run again; the other eval files still ran.",
    });
  }
  const { definitions, problems: loadProblems } = await loadEvalFiles(good);
  problems.push(...loadProblems);
  problems.sort((a, b) => a.file.localeCompare(b.file));
  const now = new Date();
  const overrides = { trials: options.trials ?? config.trials, timeout: options.timeout ?? config.timeout };
  return {
    cwd,
    config,
    files,
    definitions,
    infos: definitions.map((d) => evalInfo(d, overrides, now)),
    problems,
    filters,
    maxConcurrency: options.maxConcurrency ?? config.maxConcurrency,
    passWithNoEvals,
    maxErrorRate: options.maxErrorRate ?? config.maxErrorRate ?? 0,
    store: storeLocation({
      cwd,
      flag: options.store,
      config: typeof config.store === "string" ? path.resolve(loaded.dir, config.store) : config.store,
    }),
    root,
    git,
    ...workerCount(options.workers ?? config.workers),
    baselineDir: options.baselineDir
      ? path.resolve(cwd, options.baselineDir)
      : config.baselineDir
        ? path.resolve(loaded.dir, config.baselineDir)
        : undefined,
  };
}

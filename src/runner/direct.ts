import { existsSync } from "node:fs";
import path from "node:path";
import { isEvalrunError } from "../define/errors.js";
import { type DirectRunResult, withCamelCase } from "../define/eval.js";
import type { EvalDefinition } from "../define/types.js";
import { unknownKeyNotices } from "../define/unknown-keys.js";
import { validateDefinition } from "../define/validate.js";
import { loadConfig } from "../loader/config.js";
import { loadEnvFile } from "../loader/env-file.js";
import { colorsFor } from "../report/colors.js";
import { TerminalReporter } from "../report/terminal.js";
import { projectRoot, storeLocation } from "../store/location.js";
import { gitInfo } from "../util/git.js";
import { evalInfo } from "./prepare.js";
import { executeRun } from "./run-evals.js";

/**
 * `Eval()` in a file run by itself (`tsx my.eval.ts`): run it at once and print its summary, as Braintrust's
 * does. The exit code becomes 1 when a row errored, so the file still gates a script.
 */
export async function runDirect(definition: EvalDefinition): Promise<DirectRunResult> {
  try {
    validateDefinition(definition);
    return await run(definition);
  } catch (error) {
    // A user's mistake (a bad evaluator, an unusable store) is a message, not a rejected promise with a stack.
    if (!isEvalrunError(error)) throw error;
    process.stderr.write(`[${error.code}] ${error.message}${error.hint ? `\nhint: ${error.hint}` : ""}\n`);
    process.exitCode = error.exitCode;
    return { name: definition.name, summary: emptySummary(definition.name), results: [] };
  }
}

const emptySummary = (name: string): DirectRunResult["summary"] =>
  withCamelCase({ project_name: name, experiment_name: "", scores: {}, metrics: {} });

async function run(definition: EvalDefinition): Promise<DirectRunResult> {
  const cwd = process.cwd();
  const reporter = new TerminalReporter({
    out: process.stdout,
    err: process.stderr,
    cwd,
    colors: colorsFor(process.stdout),
    verbose: process.env.EVALRUN_VERBOSE === "1",
  });
  // The file run is the eval's file: node's (or tsx's) script, unless a registry set one.
  const script = process.argv[1];
  if (definition.file === undefined && script !== undefined && existsSync(script)) {
    definition.file = path.resolve(script);
  }
  // The project's config and env file apply as under the CLI: its store, and the keys its .env holds.
  const { config, dir, file } = await loadConfig(cwd, undefined);
  loadEnvFile(
    cwd,
    config.envFile ? path.resolve(dir, config.envFile) : undefined,
    file ? dir : projectRoot(cwd),
  );
  const info = evalInfo(definition, {}, new Date());
  const results: DirectRunResult["results"] = [];
  const result = await executeRun(
    {
      cwd,
      config,
      files: [definition.file ?? "(run directly)"],
      definitions: [definition],
      infos: [info],
      problems: [],
      filters: [],
      maxConcurrency: undefined,
      passWithNoEvals: true,
      maxErrorRate: 0,
      store: storeLocation({
        cwd,
        config: typeof config.store === "string" ? path.resolve(dir, config.store) : config.store,
      }),
      root: projectRoot(cwd),
      git: gitInfo(projectRoot(cwd)),
      workers: 0,
      notices: unknownKeyNotices(definition),
      ownProcess: true,
    },
    {
      reporters: [
        reporter,
        { onRow: (_, row) => results.push(row as unknown as DirectRunResult["results"][number]) },
      ],
    },
  );
  if (result.exitCode !== 0) process.exitCode = result.exitCode;
  const summary = result.summaries[0];
  return {
    name: definition.name,
    // A copy: the run's own summary object stays as reporters and the store have it.
    summary: summary ? withCamelCase({ ...summary }) : emptySummary(definition.name),
    results,
  };
}

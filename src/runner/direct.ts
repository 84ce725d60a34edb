import { isEvalrunError } from "../define/errors.js";
import type { DirectRunResult } from "../define/eval.js";
import type { EvalDefinition } from "../define/types.js";
import { validateDefinition } from "../define/validate.js";
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
    return { name: definition.name, summary: undefined };
  }
}

async function run(definition: EvalDefinition): Promise<DirectRunResult> {
  const cwd = process.cwd();
  const reporter = new TerminalReporter({
    out: process.stdout,
    err: process.stderr,
    cwd,
    colors: colorsFor(process.stdout),
    verbose: process.env.EVALRUN_VERBOSE === "1",
  });
  const info = evalInfo(definition, {}, new Date());
  const result = await executeRun(
    {
      cwd,
      config: {},
      files: [definition.file ?? "(run directly)"],
      definitions: [definition],
      infos: [info],
      problems: [],
      filters: [],
      maxConcurrency: undefined,
      passWithNoEvals: true,
      maxErrorRate: 0,
      store: storeLocation({ cwd }),
      root: projectRoot(cwd),
      git: gitInfo(projectRoot(cwd)),
      workers: 0,
      notices: [],
      ownProcess: true,
    },
    { reporters: [reporter] },
  );
  if (result.exitCode !== 0) process.exitCode = result.exitCode;
  return { name: definition.name, summary: result.summaries[0] };
}

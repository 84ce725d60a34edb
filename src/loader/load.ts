import path from "node:path";
import { pathToFileURL } from "node:url";
import { describeValue, isEvalrunError } from "../define/errors.js";
import { getRegistry } from "../define/registry.js";
import type { EvalDefinition } from "../define/types.js";
import { unknownKeyNotices } from "../define/unknown-keys.js";
import { validateDefinition } from "../define/validate.js";
import { ExitCalled, guardExit } from "../engine/exit-guard.js";
import { userFrame } from "../util/stack.js";
import type { CompiledFile } from "./compile.js";
import { missingExportProblem } from "./missing-export.js";
import type { Problem } from "./problems.js";

export interface LoadResult {
  definitions: EvalDefinition[];
  problems: Problem[];
  /** Evaluator keys evalrun ignores (a typo, or Braintrust's), one line each. */
  notices: string[];
}

// A bundle with unchanged content keeps its URL; the query makes a second load in one process (tests, watch
// mode) evaluate the module again so that its Eval() calls register again.
let loadCounter = 0;

/**
 * Imports each bundle in turn with the registry in collect mode, so Eval() calls register instead of running.
 * Files load one at a time because the registry attributes registrations to the file being loaded.
 */
export function loadEvalFiles(files: CompiledFile[]): Promise<LoadResult> {
  // Two runEvals() at once in one process share the registry: their loads take turns, or one's files would
  // register into the other's list, or run directly once the other put the registry back.
  const turn = loadQueue.then(() => loadInTurn(files));
  loadQueue = turn.catch(() => undefined);
  return turn;
}

let loadQueue: Promise<unknown> = Promise.resolve();

async function loadInTurn(files: CompiledFile[]): Promise<LoadResult> {
  const registry = getRegistry();
  const definitions: EvalDefinition[] = [];
  const problems: Problem[] = [];
  const notices: string[] = [];
  const byName = new Map<string, EvalDefinition>();
  const previousMode = registry.mode;
  registry.mode = "collect";
  const release = guardExit();
  try {
    for (const file of files) {
      registry.evals = [];
      registry.currentFile = file.source;
      try {
        await import(`${pathToFileURL(file.bundle).href}?load=${++loadCounter}`);
      } catch (error) {
        problems.push((await missingExportProblem(file.source, error)) ?? loadProblem(file.source, error));
        continue;
      }
      if (registry.evals.length === 0) {
        problems.push({
          code: "LOAD",
          file: file.source,
          message: "This file registers no evals.",
          hint: 'Call Eval("name", { data, task, scores }) at the top level of the file (and import Eval from "evalrun").',
        });
        continue;
      }
      for (const definition of registry.evals) {
        definition.file = file.source;
        definition.bundle = file.bundle;
        try {
          validateDefinition(definition);
        } catch (error) {
          if (!isEvalrunError(error)) throw error;
          problems.push({ code: error.code, file: file.source, message: error.message, hint: error.hint });
          continue;
        }
        const previous = byName.get(definition.name);
        if (previous) {
          const shown = (f: string | undefined) =>
            f ? path.relative(process.cwd(), f) || f : "an unknown file";
          const where =
            previous.file === file.source
              ? `twice in ${shown(file.source)}`
              : `in ${shown(previous.file)} and in ${shown(file.source)}`;
          problems.push({
            code: "DUPLICATE_EVAL",
            file: file.source,
            message: `Two evals are named "${definition.name}": ${where}. The second was not run.`,
            hint: compiledCopy(previous.file, file.source)
              ? `One looks like the other compiled (tsc's outDir): leave the compiled files out, with exclude: ["${compiledCopy(previous.file, file.source)}/**"] in evalrun.config.ts or paths naming the sources' directory.`
              : distinctExperiments(previous, definition)
                ? `Give each eval a unique name; the name identifies its experiments and baselines. Where Braintrust groups evals of one project by experimentName, put it in the name: Eval("${definition.name} ${String(definition.evaluator.experimentName)}", ...).`
                : "Give each eval a unique name; the name identifies its experiments and baselines.",
          });
          continue;
        }
        byName.set(definition.name, definition);
        definitions.push(definition);
        notices.push(...unknownKeyNotices(definition));
      }
    }
  } finally {
    release();
    registry.mode = previousMode;
    registry.currentFile = undefined;
    registry.evals = [];
  }
  return { definitions, problems, notices };
}

function loadProblem(file: string, error: unknown): Problem {
  // An EvalrunError thrown while loading (a malformed data file read at the top level) says where and why itself.
  if (isEvalrunError(error)) {
    return { code: "LOAD", file, message: `Failed to load: ${error.message}`, hint: error.hint };
  }
  const frame = error instanceof Error ? userFrame(error, file) : undefined;
  if (error instanceof ExitCalled) {
    return {
      code: "LOAD",
      file,
      message: `Failed to load: its top-level code called process.exit(${error.code === undefined ? "" : String(error.code)}).`,
      hint: "An eval file is imported by evalrun, which runs the evals it registers; remove the process.exit() call (the other files still ran).",
      line: frame?.line,
      column: frame?.column,
    };
  }
  const message =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : `threw ${describeValue(error)} (not an Error)`;
  return {
    code: "LOAD",
    file,
    message: `Failed to load: ${message}`,
    // An EvalrunError thrown at load (a scorer's .partial() with a bad option) knows better what to do.
    hint: isEvalrunError(error)
      ? (error.hint ?? "Fix the call it names.")
      : "The file threw while being imported; fix its top-level code (or the module it imports).",
    line: frame?.line,
    column: frame?.column,
    detail: error instanceof Error ? error.stack : undefined,
  };
}

/** Two evals of one name told apart by experimentName, as Braintrust allows (a loop over models, say). */
function distinctExperiments(a: EvalDefinition, b: EvalDefinition): boolean {
  const x = a.evaluator.experimentName;
  const y = b.evaluator.experimentName;
  return typeof x === "string" && typeof y === "string" && x !== y;
}

/**
 * The top directory of the compiled copy when one file is the other compiled (`lib/evals/x.eval.js` of
 * `evals/x.eval.ts`), relative to the current directory; undefined otherwise.
 */
function compiledCopy(a: string | undefined, b: string): string | undefined {
  if (a === undefined || a === b) return undefined;
  const stem = (file: string) => path.basename(file).replace(/\.[cm]?[jt]sx?$/, "");
  const isJs = (file: string) => /\.[cm]?jsx?$/.test(file);
  if (stem(a) !== stem(b) || isJs(a) === isJs(b)) return undefined;
  const [compiled, source] = isJs(a) ? [a, b] : [b, a];
  // The compiled file's path ends with the source's directory path (relative to their common root).
  const relative = path.relative(process.cwd(), compiled).split(path.sep);
  const sourceParts = path.relative(process.cwd(), source).split(path.sep);
  if (relative.length <= sourceParts.length || relative[0] === "..") return undefined;
  return relative.slice(0, relative.length - sourceParts.length).join("/");
}

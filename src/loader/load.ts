import path from "node:path";
import { pathToFileURL } from "node:url";
import { describeValue, isEvalrunError } from "../define/errors.js";
import { braintrustKey } from "../define/eval-key.js";
import { getRegistry } from "../define/registry.js";
import type { EvalDefinition } from "../define/types.js";
import { unknownKeyNotices } from "../define/unknown-keys.js";
import { validateDefinition } from "../define/validate.js";
import { ExitCalled, guardExit } from "../engine/exit-guard.js";
import { noticeAfterMs } from "../engine/stall-notice.js";
import { withoutSecrets } from "../util/secrets.js";
import { evalLine } from "../util/source-line.js";
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
 * Each registration is attributed to the load whose bundle is on its call stack (see Registry.route).
 */
export function loadEvalFiles(files: CompiledFile[]): Promise<LoadResult> {
  // Two runEvals() at once in one process share the registry: their loads take turns, so that an evalrun copy
  // too old to give its call stack registers into the right list. A turn whose import is still pending after
  // SLOW_LOAD_MS (a top-level await) lets the next one start: attribution by call stack keeps them apart.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const turn = loadQueue.then(() => loadInTurn(files, release));
  loadQueue = Promise.race([turn, released]).catch(() => undefined);
  return turn;
}

let loadQueue: Promise<unknown> = Promise.resolve();

/** How long an import may take before the next load may start beside it. */
export const SLOW_LOAD_MS = 3000;

/** A bundle being imported: its URL as imported, its source, and the evals that registered through it. */
interface PendingLoad {
  source: string;
  evals: EvalDefinition[];
}

const pendingLoads = new Map<string, PendingLoad>();

/** Errors that failed an eval file's import: reported as its load problem, not again as an escaped error. */
const loadFailures = new WeakSet<object>();

export function isLoadFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && loadFailures.has(error);
}

let slowLoadListener: ((source: string, afterMs: number) => void) | undefined;

/**
 * Told when an eval file has been importing for the stall notice's delay (EVALRUN_STALL_NOTICE_MS): its top-level
 * code awaits something (a download, a connection) that may never come, and a run that says nothing looks hung.
 */
export function onSlowLoad(listener: ((source: string, afterMs: number) => void) | undefined): void {
  slowLoadListener = listener;
}

let turnsRunning = 0;

/** Whether eval files are being imported now. */
export function loadingFiles(): boolean {
  return turnsRunning > 0;
}

function route(definition: EvalDefinition, scripts: readonly string[]): boolean {
  for (const script of scripts) {
    const load = pendingLoads.get(script);
    if (!load) continue;
    definition.file = load.source;
    load.evals.push(definition);
    return true;
  }
  return false;
}

type Imported = { ok: true } | { ok: false; error: unknown } | { ok: "stuck" };

/**
 * Imports one bundle. A top-level `await` on a promise nothing can settle would leave the import pending while
 * the process has nothing left to do: Node would end it with exit code 13 and no word. `beforeExit` says so, and
 * the import counts as stuck.
 */
async function importBundle(href: string, onSlow: () => void): Promise<Imported> {
  let onBeforeExit: (() => void) | undefined;
  const stuck = new Promise<Imported>((resolve) => {
    onBeforeExit = () => resolve({ ok: "stuck" });
    process.on("beforeExit", onBeforeExit);
  });
  const slow = setTimeout(onSlow, SLOW_LOAD_MS);
  slow.unref();
  try {
    return await Promise.race([
      import(href).then(
        (): Imported => ({ ok: true }),
        (error: unknown): Imported => ({ ok: false, error }),
      ),
      stuck,
    ]);
  } finally {
    clearTimeout(slow);
    if (onBeforeExit) process.off("beforeExit", onBeforeExit);
  }
}

async function loadInTurn(files: CompiledFile[], letNextStart: () => void): Promise<LoadResult> {
  const registry = getRegistry();
  const definitions: EvalDefinition[] = [];
  const problems: Problem[] = [];
  const notices: string[] = [];
  const byName = new Map<string, EvalDefinition>();
  // Names registered by evals that experimentName tells apart: later ones of the name are told apart too.
  const split = new Set<string>();
  const previousMode = registry.mode;
  registry.mode = "collect";
  const release = guardExit();
  turnsRunning++;
  try {
    for (const file of files) {
      const href = `${pathToFileURL(file.bundle).href}?load=${++loadCounter}`;
      const load: PendingLoad = { source: file.source, evals: [] };
      pendingLoads.set(href, load);
      registry.route = route;
      registry.evals = [];
      registry.currentFile = file.source;
      const afterMs = slowLoadListener ? noticeAfterMs() : 0;
      const notice =
        afterMs > 0 ? setTimeout(() => slowLoadListener?.(file.source, afterMs), afterMs).unref() : undefined;
      const importStarted = performance.now();
      const imported = await importBundle(href, letNextStart);
      const loadMs = performance.now() - importStarted;
      clearTimeout(notice);
      // A stuck load stays routed: should another file's code settle what it awaits, its evals still go to it.
      if (imported.ok !== "stuck") pendingLoads.delete(href);
      // Registrations of an older evalrun copy, which only the file loading at the time can claim.
      if (registry.currentFile === file.source) load.evals.push(...registry.evals);
      if (imported.ok === "stuck") {
        problems.push(stuckProblem(file.source));
        continue;
      }
      if (imported.ok === false) {
        if (typeof imported.error === "object" && imported.error !== null) loadFailures.add(imported.error);
        problems.push(
          (await missingExportProblem(file.source, imported.error)) ??
            loadProblem(file.source, imported.error),
        );
        continue;
      }
      if (load.evals.length === 0) {
        problems.push({
          code: "LOAD",
          file: file.source,
          message: "This file registers no evals.",
          hint: 'Call Eval("name", { data, task, scores }) at the top level of the file (and import Eval from "evalrun"); one called from an async function must have run when the file has loaded: write `await main()`, not `main()`.',
        });
        continue;
      }
      for (const definition of load.evals) {
        definition.file = file.source;
        definition.bundle = file.bundle;
        definition.loadMs = loadMs;
        try {
          validateDefinition(definition);
        } catch (error) {
          if (!isEvalrunError(error)) throw error;
          problems.push({
            code: error.code,
            file: file.source,
            message: error.message,
            hint: error.hint,
            // At the Eval() call, as a compile or load error is at its line.
            line: evalLine(file.source, definition.name),
            column: 1,
          });
          continue;
        }
        // Braintrust runs evals of one project told apart by experimentName (a loop over models or prompts) as
        // "<project> [experimentName=<name>]": so do they run here, each with its own history and baseline.
        if (split.has(definition.name) && experimentNameOf(definition) !== undefined) {
          definition.name = braintrustKey(definition.name, experimentNameOf(definition) as string);
        } else {
          const clashing = byName.get(definition.name);
          if (clashing && distinctExperiments(clashing, definition)) {
            split.add(definition.name);
            byName.delete(clashing.name);
            clashing.name = braintrustKey(clashing.name, experimentNameOf(clashing) as string);
            byName.set(clashing.name, clashing);
            definition.name = braintrustKey(definition.name, experimentNameOf(definition) as string);
          }
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
              : "Give each eval a unique name; the name identifies its experiments and baselines.",
          });
          continue;
        }
        byName.set(definition.name, definition);
        definitions.push(definition);
      }
    }
  } finally {
    turnsRunning--;
    release();
    registry.mode = previousMode;
    registry.currentFile = undefined;
    registry.evals = [];
  }
  // Worked out once every name is final (an eval told apart by experimentName is renamed when its twin loads).
  for (const definition of definitions) notices.push(...unknownKeyNotices(definition));
  return { definitions, problems, notices };
}

function stuckProblem(file: string): Problem {
  return {
    code: "LOAD",
    file,
    message:
      "Failed to load: its top-level code awaits a promise that can never settle (nothing was left for it to wait on: no timer, no I/O), so the evals after that `await` never registered.",
    hint: "Look for a top-level `await` on a promise whose resolve is never called (the other files still ran).",
  };
}

function loadProblem(file: string, error: unknown): Problem {
  // An EvalrunError thrown while loading (a malformed data file read at the top level) says where and why itself.
  if (isEvalrunError(error)) {
    // Its code says what went wrong (BAD_SCORER_OPTIONS for a bad .partial()), and the eval file's frame where.
    const frame = userFrame(error, file);
    return {
      code: error.code,
      file,
      message: withoutSecrets(`Failed to load: ${error.message}`),
      hint: error.hint,
      ...(frame?.file === file ? { line: frame.line, column: frame.column } : {}),
    };
  }
  const frame = error instanceof Error ? userFrame(error, file) : undefined;
  // Thrown in a module the eval file imports (the app's code): that module, at its line, is the place to fix.
  const elsewhere = frame !== undefined && frame.file !== file;
  const at = elsewhere ? { file: frame.file, line: frame.line, column: frame.column } : { file, ...frame };
  const loading = elsewhere
    ? ` (while loading ${path.relative(process.cwd(), file) || file}, which imports it)`
    : "";
  if (error instanceof ExitCalled) {
    return {
      code: "LOAD",
      file: at.file,
      message: `Failed to load: its top-level code called process.exit(${error.code === undefined ? "" : String(error.code)})${loading}.`,
      hint: "An eval file is imported by evalrun, which runs the evals it registers; remove the process.exit() call (the other files still ran).",
      line: at.line,
      column: at.column,
    };
  }
  const message =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : `threw ${describeValue(error)} (not an Error)`;
  return {
    code: "LOAD",
    file: at.file,
    message: withoutSecrets(`Failed to load: ${message}${loading}`),
    // An EvalrunError thrown at load (a scorer's .partial() with a bad option) knows better what to do.
    hint: isEvalrunError(error)
      ? (error.hint ?? "Fix the call it names.")
      : "The file threw while being imported; fix its top-level code (or the module it imports).",
    line: at.line,
    column: at.column,
    detail: error instanceof Error && error.stack !== undefined ? withoutSecrets(error.stack) : undefined,
  };
}

const experimentNameOf = (d: EvalDefinition): string | undefined =>
  typeof d.evaluator.experimentName === "string" && d.evaluator.experimentName !== ""
    ? d.evaluator.experimentName
    : undefined;

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
